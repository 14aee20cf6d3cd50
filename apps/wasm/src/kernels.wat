;;-------------------------------------------------------------------------
;;
;; kernels.wat
;;	  A small WebAssembly module that computes in place on memory an
;;	  @mmgr heap manages, and allocates from that heap itself.
;;
;; The memory is imported, so JavaScript creates it and puts a heap in it
;; (Heap.fromMemory(memory, { base: 1024 })); pointers the heap hands out
;; are addresses the module loads and stores at directly. malloc and free
;; are imported too: bound to the heap (or an AllocSet, or an nginx pool),
;; they are the module's allocator, as libc's would be.
;;
;; Below the heap's base is the module's own data, which the heap never
;; touches:
;;
;;   0        16                   32                    64         1024
;;   ┌────────┬────────────────────┬─────────────────────┬──────────┬─── heap ───
;;   │ (NULL) │ "0123456789abcdef" │ "mmgr wasm kernels" │ (unused) │ control ...
;;   └────────┴────────────────────┴─────────────────────┴──────────┴────────────
;;             hex digits           name, NUL-ended       __data_end __heap_base
;;
;; kernels.ts compiles this text with wabt; for a shared memory it swaps
;; the memory import below for `(memory 1 65536 shared)`.
;;
;;-------------------------------------------------------------------------
(module
  (import "env" "memory" (memory 1))
  (import "env" "malloc" (func $malloc (param i32) (result i32)))
  (import "env" "free" (func $free (param i32)))

  (data (i32.const 16) "0123456789abcdef")
  (data (i32.const 32) "mmgr wasm kernels\00")

  ;; Where the data ends and the heap may start, as clang's wasm-ld exports them.
  (global (export "__data_end") i32 (i32.const 64))
  (global (export "__heap_base") i32 (i32.const 1024))
  (global (export "name") i32 (i32.const 32))

  ;; The sum of `len` i32s at `ptr` (wrapping, as C's int arithmetic on wasm).
  (func (export "sum_i32") (param $ptr i32) (param $len i32) (result i32)
    (local $end i32)
    (local $acc i32)
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $len) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $acc (i32.add (local.get $acc) (i32.load (local.get $ptr))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 4)))
        (br $next)))
    (local.get $acc))

  ;; The sum of `len` f64s at `ptr`, added left to right.
  (func (export "sum_f64") (param $ptr i32) (param $len i32) (result f64)
    (local $end i32)
    (local $acc f64)
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $len) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $acc (f64.add (local.get $acc) (f64.load (local.get $ptr))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 8)))
        (br $next)))
    (local.get $acc))

  ;; Writes the `len` bytes at `src` to `dst` in reverse order (they must not overlap).
  (func $reverse_bytes (export "reverse_bytes") (param $src i32) (param $len i32) (param $dst i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (i32.store8
          (i32.add (local.get $dst) (local.get $i))
          (i32.load8_u
            (i32.sub (i32.add (local.get $src) (local.get $len))
                     (i32.add (local.get $i) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; malloc(len), the bytes at `src` reversed into it; the caller frees it.
  ;; 0 when malloc returns 0.
  (func (export "reversed_copy") (param $src i32) (param $len i32) (result i32)
    (local $dst i32)
    (local.set $dst (call $malloc (local.get $len)))
    (if (i32.eqz (local.get $dst)) (then (return (i32.const 0))))
    (call $reverse_bytes (local.get $src) (local.get $len) (local.get $dst))
    (local.get $dst))

  ;; Gives a buffer back through the imported free.
  (func (export "free_buffer") (param $ptr i32)
    (call $free (local.get $ptr)))

  ;; The `len` bytes at `src` as 2 * len lowercase hex digits at `dst`,
  ;; looked up in the module's own table at 16.
  (func (export "hex_encode") (param $src i32) (param $len i32) (param $dst i32)
    (local $end i32)
    (local $byte i32)
    (local.set $end (i32.add (local.get $src) (local.get $len)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $byte (i32.load8_u (local.get $src)))
        (i32.store8 (local.get $dst)
          (i32.load8_u offset=16 (i32.shr_u (local.get $byte) (i32.const 4))))
        (i32.store8 offset=1 (local.get $dst)
          (i32.load8_u offset=16 (i32.and (local.get $byte) (i32.const 15))))
        (local.set $src (i32.add (local.get $src) (i32.const 1)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 2)))
        (br $next))))

  ;; memory.grow from inside the module: the old size in pages, or -1.
  (func (export "grow_memory") (param $pages i32) (result i32)
    (memory.grow (local.get $pages))))
