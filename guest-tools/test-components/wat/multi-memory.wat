;; Pool starvation inside one module: a core module that defines five linear
;; memories (the multi-memory proposal) and two tables, in a component
;; exporting one trivial function.
;;
;; The attack. One instance takes five memory slots and two table slots of
;; the engine-wide pool, where a Rust guest takes one of each; with many
;; such modules (or more memories per module) a component takes a large
;; share of the pool without the nested-instance trick of
;; `pool-starve.wat`. wasmtime's pooling allocator allows one memory and one
;; table per module by default, so a host with those defaults refuses this
;; component when it compiles it (the message names the module memory
;; count); a host that raises `max_memories_per_module` must bound what one
;; instance may take.
;;
;; Exports (world-level function; the `package-docs` section below carries
;; its description):
;; - touch() -> u32
;;     Writes one byte to each of the five memories and returns the sum of
;;     their sizes in 64 KiB pages (5).
;;
;; No imports: it needs no grant and no WASI.
(component
  (core module $m
    (memory $a 1)
    (memory $b 1)
    (memory $c 1)
    (memory $d 1)
    (memory $e 1)
    (table $t 1 funcref)
    (table $u 1 funcref)
    (func (export "touch") (result i32)
      (i32.store8 $a (i32.const 0) (i32.const 1))
      (i32.store8 $b (i32.const 0) (i32.const 1))
      (i32.store8 $c (i32.const 0) (i32.const 1))
      (i32.store8 $d (i32.const 0) (i32.const 1))
      (i32.store8 $e (i32.const 0) (i32.const 1))
      (i32.add
        (i32.add (i32.add (memory.size $a) (memory.size $b)) (i32.add (memory.size $c) (memory.size $d)))
        (memory.size $e))))
  (core instance $i (instantiate $m))
  (func (export "touch") (result u32)
    (canon lift (core func $i "touch")))

  (@custom "package-docs" "\01{\"worlds\":{\"multi-memory\":{\"func_exports\":{\"touch\":{\"docs\":\"Pool starvation: one module with five memories and two tables; writes one byte to each memory and returns the sum of their sizes in pages (5).\"}}}}}")
)
