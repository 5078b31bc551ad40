//! The "write your first tool" example: two functions, no state, no imports
//! beyond what every Rust guest gets.

wit_bindgen::generate!({ path: "wit", world: "calc" });
corral_guest::package_docs!();

struct Calc;

impl Guest for Calc {
    fn add(a: i32, b: i32) -> i64 {
        i64::from(a) + i64::from(b)
    }

    fn divide(dividend: f64, divisor: f64) -> Result<f64, String> {
        if divisor == 0.0 {
            return Err("cannot divide by zero: pass a divisor other than 0".to_string());
        }
        let quotient = dividend / divisor;
        if quotient.is_finite() {
            Ok(quotient)
        } else {
            Err(format!(
                "{dividend} / {divisor} is not a finite number; use smaller values"
            ))
        }
    }
}

export!(Calc);
