;; A component importing WASI interfaces and one Corral does not provide.
(component
  (import "wasi:cli/environment@0.2.0" (instance
    (export "get-arguments" (func (result (list string))))))
  (import "wasi:random/random@0.2.0" (instance
    (export "get-random-u64" (func (result u64)))))
  (import "acme:other/thing" (instance))
)
