;; A component exporting an interface, as wit-bindgen writes exports.
(component
  (core module $m
    (func (export "double") (param i32) (result i32) local.get 0 i32.const 2 i32.mul))
  (core instance $i (instantiate $m))
  (func $double (param "n" s32) (result s32) (canon lift (core func $i "double")))
  (instance $text (export "double" (func $double)))
  (export "corral:fuzz/numbers@0.1.0" (instance $text))
)
