;; Pointer chasing: the slowest wasm per unit of fuel.
;;
;; The attack on a deadline that is checked every so much fuel. Fuel counts
;; instructions, and a load costs one unit whether it hits the cache or
;; misses every cache and the TLB. `chase` links 2^21 cache lines of a
;; 128 MiB memory into one cycle (each line holds the address of the next,
;; 2.5 MiB further on, so every step lands on another page) and then follows
;; it: each step is one dependent load that misses, for four units of fuel.
;;
;; Exports (world-level function; the `package-docs` section below carries
;; its description):
;; - chase(steps: u32) -> u32
;;     Builds the cycle, follows it for `steps` steps, and returns the
;;     address it reached. `steps = 0` loops forever.
;;
;; Memory: 128 MiB at start (2048 pages); give the component a memory limit
;; above that. Imports nothing.
(component
  (core module $m
    (memory 2048)
    ;; Lines are 64 bytes; the stride is 64 × 40503 (odd), so the 2^21 line
    ;; addresses k × stride mod 2^27 are all distinct before they repeat.
    (func (export "chase") (param $steps i32) (result i32)
      (local $k i32) (local $p i32) (local $next i32)
      ;; Build: line k points at line k + 1.
      (loop $build
        (local.set $next
          (i32.and (i32.add (local.get $p) (i32.const 2592192)) (i32.const 0x7ffffc0)))
        (i32.store (local.get $p) (local.get $next))
        (local.set $p (local.get $next))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br_if $build (i32.lt_u (local.get $k) (i32.const 2097152))))
      ;; Follow: one dependent, cache-missing load per step.
      (local.set $p (i32.const 0))
      (loop $follow
        (local.set $p (i32.load (local.get $p)))
        (local.set $steps (i32.sub (local.get $steps) (i32.const 1)))
        (br_if $follow (local.get $steps)))
      (local.get $p)))
  (core instance $i (instantiate $m))
  (func (export "chase") (param "steps" u32) (result u32)
    (canon lift (core func $i "chase")))

  (@custom "package-docs" "\01{\"worlds\":{\"chase\":{\"func_exports\":{\"chase\":{\"docs\":\"Pointer chasing: links the cache lines of 128 MiB into one cycle and follows it for `steps` steps (0: forever), one cache-missing load per step; returns the address reached.\"}}}}}")
)
