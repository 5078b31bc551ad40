//! Returns every WIT type unchanged, so the host's tests can check that a
//! JSON value survives the trip into the component and back, for each type
//! and for kebab-case names of fields, cases, flags and parameters.

wit_bindgen::generate!({ path: "wit", world: "type-echo" });
corral_guest::package_docs!();

use exports::corral::type_echo::echo::{
    FilePermissions, Guest as EchoGuest, ManyValues, PersonInfo, ShapeKind, TrafficLight,
};

struct TypeEcho;

impl Guest for TypeEcho {
    fn echo_unit() {}
}

impl EchoGuest for TypeEcho {
    fn echo_bool(value: bool) -> bool {
        value
    }
    fn echo_s8(value: i8) -> i8 {
        value
    }
    fn echo_u8(value: u8) -> u8 {
        value
    }
    fn echo_s16(value: i16) -> i16 {
        value
    }
    fn echo_u16(value: u16) -> u16 {
        value
    }
    fn echo_s32(value: i32) -> i32 {
        value
    }
    fn echo_u32(value: u32) -> u32 {
        value
    }
    fn echo_s64(value: i64) -> i64 {
        value
    }
    fn echo_u64(value: u64) -> u64 {
        value
    }
    fn echo_f32(value: f32) -> f32 {
        value
    }
    fn echo_f64(value: f64) -> f64 {
        value
    }
    fn echo_char(value: char) -> char {
        value
    }
    fn echo_string(value: String) -> String {
        value
    }
    fn echo_list(value: Vec<u32>) -> Vec<u32> {
        value
    }
    fn echo_bytes(value: Vec<u8>) -> Vec<u8> {
        value
    }
    fn echo_record(value: PersonInfo) -> PersonInfo {
        value
    }
    fn echo_tuple(value: (String, u8, bool)) -> (String, u8, bool) {
        value
    }
    fn echo_variant(value: ShapeKind) -> ShapeKind {
        value
    }
    fn echo_enum(value: TrafficLight) -> TrafficLight {
        value
    }
    fn echo_option(value: Option<String>) -> Option<String> {
        value
    }
    fn echo_nested_option(value: Option<Option<u32>>) -> Option<Option<u32>> {
        value
    }
    fn echo_result(value: Result<String, u32>) -> Result<String, u32> {
        value
    }
    fn echo_flags(value: FilePermissions) -> FilePermissions {
        value
    }
    fn echo_many(
        first_flag: bool,
        small_number: i8,
        big_number: u64,
        some_text: String,
        maybe_char: Option<char>,
        light: TrafficLight,
    ) -> ManyValues {
        ManyValues {
            first_flag,
            small_number,
            big_number,
            some_text,
            maybe_char,
            light,
        }
    }
}

export!(TypeEcho);
