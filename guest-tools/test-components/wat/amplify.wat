;; Amplified results: a result that is small in guest memory, or small once
;; encoded, but huge while the host builds it.
;;
;; The attack. The canonical ABI lifts a list of strings or lists from
;; (pointer, length) pairs in linear memory and never asks whether two pairs
;; point at the same bytes. `strings`, `byte-lists` and `cell-lists` write
;; ONE region of `bytes` bytes and then `count` pairs that all point at it:
;; the guest holds about `bytes` + 8 × `count` bytes, the host lifts
;; `count` × `bytes` bytes (as `Val`s), converts them to JSON values and
;; renders them as text, all before it compares the text with
;; `max_result_size`. `bytes` and `cells` need no aliasing: each element of a
;; plain list costs one guest byte, but one `Val` on the host, one JSON value
;; and (for a record) one map allocation, for two (`[0,0,…]`) or eight
;; (`[{"v":0},…]`) bytes of text.
;;
;; Exports (world-level functions; the `package-docs` section below carries
;; their descriptions):
;; - strings(count: u32, bytes: u32) -> list<string>
;;     `count` strings, each the same `bytes` bytes of "a".
;; - byte-lists(count: u32, bytes: u32) -> list<list<u8>>
;;     `count` byte lists, each the same `bytes` bytes (97, "a").
;; - cell-lists(count: u32, bytes: u32) -> list<list<cell>>
;;     `count` lists of `bytes` records `cell { v: u8 }`, all the same
;;     `bytes` bytes of memory: `count` × `bytes` records on the host.
;; - bytes(count: u32) -> list<u8>
;;     `count` zero bytes: plain `Val` amplification, no aliasing.
;; - cells(count: u32) -> list<cell>
;;     `count` records `{ v: 0 }`, one guest byte each.
;;
;; Memory: the functions grow linear memory to what they need and trap
;; ("unreachable") when the host refuses; a call never needs more than
;; 16 + `bytes` + 8 × `count` bytes (rounded up to 64 KiB pages).
;; No imports: it needs no grant and no WASI.
(component $amplify
  (core module $m
    (memory (export "memory") 1)

    ;; Grows the memory so that [0, end) is addressable; traps if the host
    ;; refuses (or if `end` is beyond 4 GiB).
    (func $reserve (param $end i64)
      (local $pages i64)
      (local.set $pages
        (i64.div_u (i64.add (local.get $end) (i64.const 65535)) (i64.const 65536)))
      (if (i64.gt_u (local.get $pages) (i64.extend_i32_u (memory.size)))
        (then
          (if (i64.gt_u (local.get $pages) (i64.const 65536)) (then unreachable))
          (if (i32.eq
                (memory.grow
                  (i32.wrap_i64
                    (i64.sub (local.get $pages) (i64.extend_i32_u (memory.size)))))
                (i32.const -1))
            (then unreachable)))))

    ;; One region of `bytes` bytes of "a" at offset 16, then `count`
    ;; (pointer, length) pairs all pointing at it. Returns the address of
    ;; the (pointer, length) of the outer list, at offset 0.
    (func (export "alias") (param $count i32) (param $bytes i32) (result i32)
      (local $pairs i32) (local $at i32) (local $i i32)
      (local.set $pairs
        (i32.wrap_i64
          (i64.and
            (i64.add (i64.add (i64.const 16) (i64.extend_i32_u (local.get $bytes))) (i64.const 7))
            (i64.const -8))))
      (call $reserve
        (i64.add
          (i64.and
            (i64.add (i64.add (i64.const 16) (i64.extend_i32_u (local.get $bytes))) (i64.const 7))
            (i64.const -8))
          (i64.mul (i64.extend_i32_u (local.get $count)) (i64.const 8))))
      (memory.fill (i32.const 16) (i32.const 0x61) (local.get $bytes))
      (local.set $at (local.get $pairs))
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
          (i32.store (local.get $at) (i32.const 16))
          (i32.store offset=4 (local.get $at) (local.get $bytes))
          (local.set $at (i32.add (local.get $at) (i32.const 8)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (i32.store (i32.const 0) (local.get $pairs))
      (i32.store offset=4 (i32.const 0) (local.get $count))
      (i32.const 0))

    ;; `count` zero bytes at offset 16. Returns the address of their
    ;; (pointer, length), at offset 0.
    (func (export "flat") (param $count i32) (result i32)
      (call $reserve (i64.add (i64.const 16) (i64.extend_i32_u (local.get $count))))
      (i32.store (i32.const 0) (i32.const 16))
      (i32.store offset=4 (i32.const 0) (local.get $count))
      (i32.const 0))
  )
  (core instance $i (instantiate $m))

  (type $cell-def (record (field "v" u8)))
  (export $cell "cell" (type $cell-def))

  (func (export "strings") (param "count" u32) (param "bytes" u32) (result (list string))
    (canon lift (core func $i "alias") (memory (core memory $i "memory"))))
  (func (export "byte-lists") (param "count" u32) (param "bytes" u32) (result (list (list u8)))
    (canon lift (core func $i "alias") (memory (core memory $i "memory"))))
  (func (export "cell-lists") (param "count" u32) (param "bytes" u32) (result (list (list $cell)))
    (canon lift (core func $i "alias") (memory (core memory $i "memory"))))
  (func (export "bytes") (param "count" u32) (result (list u8))
    (canon lift (core func $i "flat") (memory (core memory $i "memory"))))
  (func (export "cells") (param "count" u32) (result (list $cell))
    (canon lift (core func $i "flat") (memory (core memory $i "memory"))))

  (@custom "package-docs" "\01{\"worlds\":{\"amplify\":{\"func_exports\":{\"strings\":{\"docs\":\"Amplified result: returns `count` strings that all alias one region of `bytes` bytes of \\\"a\\\" in guest memory, so the host lifts and renders `count` x `bytes` bytes.\"},\"byte-lists\":{\"docs\":\"Amplified result: returns `count` byte lists that all alias one region of `bytes` bytes in guest memory, so the host lifts and renders `count` x `bytes` bytes.\"},\"cell-lists\":{\"docs\":\"Amplified result: returns `count` lists of `bytes` records {v: u8} that all alias one region of `bytes` bytes in guest memory, so the host lifts and renders `count` x `bytes` records.\"},\"bytes\":{\"docs\":\"Amplified result: returns `count` zero bytes as a list<u8>; one guest byte and two bytes of JSON text become one host Val and one JSON value each.\"},\"cells\":{\"docs\":\"Amplified result: returns `count` records {v: 0}; one guest byte and eight bytes of JSON text become one host Val, one JSON map and its allocations each.\"}}}}}")
)
