namespace FunctionalBackprop.Core

open System
open System.Threading
open System.IO
open System.Runtime.InteropServices
open System.Runtime.Intrinsics.X86

/// The CBLAS entry points, bound at run time (by NativeBlas's import resolver) to whichever
/// library NativeBlas.load found. Arrays are blittable, so the marshaller pins them and passes
/// their addresses: the matrices' own column-major arrays, no copies.
module internal Cblas =

    /// The name the import resolver maps to the loaded library.
    [<Literal>]
    let Library = "functionalbackprop-cblas"

    /// CBLAS's column-major layout and transpose codes.
    [<Literal>]
    let ColumnMajor = 102

    [<Literal>]
    let NoTranspose = 111

    [<Literal>]
    let Transpose = 112

    [<DllImport(Library, EntryPoint = "cblas_dgemm", CallingConvention = CallingConvention.Cdecl)>]
    extern void dgemm(int layout, int transA, int transB, int m, int n, int k, double alpha, double[] a, int lda, double[] b, int ldb, double beta, double[] c, int ldc)

    [<DllImport(Library, EntryPoint = "cblas_sgemm", CallingConvention = CallingConvention.Cdecl)>]
    extern void sgemm(int layout, int transA, int transB, int m, int n, int k, float32 alpha, float32[] a, int lda, float32[] b, int ldb, float32 beta, float32[] c, int ldc)

/// setenv from the C library: .NET's Environment.SetEnvironmentVariable does not change the
/// native environment on Unix, which is where OpenBLAS reads OPENBLAS_CORETYPE when it loads.
module internal Libc =

    [<DllImport("libc", EntryPoint = "setenv", CallingConvention = CallingConvention.Cdecl)>]
    extern int setenv(string name, string value, int overwrite)

/// OpenBLAS's thread-count setter, when the library has one.
[<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
type internal SetThreads = delegate of int -> unit

/// OpenBLAS's name of the kernels it chose ("SkylakeX", "Haswell", …).
[<UnmanagedFunctionPointer(CallingConvention.Cdecl)>]
type internal GetCoreName = delegate of unit -> nativeint

/// What every NativeGemm over one loaded library shares: its thread setting, and the lock that
/// lets one large product at a time use the threads.
[<Sealed>]
type internal NativeThreads(setThreads: SetThreads option) =
    do setThreads |> Option.iter (fun set -> set.Invoke 1)

    /// OpenBLAS's thread-count setter, if the library has one.
    member _.SetThreads = setThreads

    /// Held while a large product runs on several threads.
    member val Gate = obj ()

    /// The most threads a large product uses.
    member val MaxThreads =
        (match Int32.TryParse(Environment.GetEnvironmentVariable "FUNCTIONALBACKPROP_BLAS_THREADS") with
         | true, n when n >= 1 -> n
         | _ -> Environment.ProcessorCount) with get, set

    /// The multiply-adds from which a product uses more than one thread.
    member val Threshold = 1L <<< 22 with get, set

/// A native CBLAS behind the GEMM seam.
///
/// Threads: a product runs on one BLAS thread unless it has at least ThreadingThreshold
/// multiply-adds, when it runs on MaxThreads; large products are serialised by a lock, so two of
/// them never run at once and the cores are never oversubscribed, while small ones (most of a
/// small network's training) run on the caller's thread with no lock. The shards of a
/// data-parallel mini-batch, each on a core of its own, keep every product on one thread.
///
/// The provider a process takes by default when a native library loads is this library with the
/// managed kernel beside it: each product goes to whichever of the two is faster for its shape,
/// by the rule of GemmChoice (measured, not timed per call). Gemm.native returns the library
/// alone.
[<Sealed>]
type NativeGemm internal (path: string, coreType: string, threads: NativeThreads, byShape: bool) =

    /// The file the library was loaded from.
    member _.Path = path

    /// The kernels OpenBLAS chose ("SkylakeX", …), or "" for another library.
    member _.CoreType = coreType

    /// The most threads a large product uses (the processor count unless set, or unless the
    /// environment variable FUNCTIONALBACKPROP_BLAS_THREADS says otherwise).
    member _.MaxThreads
        with get () = threads.MaxThreads
        and set (value: int) =
            if value < 1 then raise (ArgumentOutOfRangeException("value", value, "At least one thread is needed."))
            threads.MaxThreads <- value

    /// The number of multiply-adds (m·n·k) from which a product uses more than one thread.
    member _.ThreadingThreshold
        with get () = threads.Threshold
        and set (value: int64) =
            if value < 1L then raise (ArgumentOutOfRangeException("value", value, "The threshold must be positive."))
            threads.Threshold <- value

    /// Whether products go to the managed kernel where it is faster for their shape.
    member internal _.ByShape = byShape

    /// This library with the managed kernel beside it, each product going to whichever is faster
    /// for its shape (the same library, threads and lock).
    member internal _.WithManagedWhereFaster() = NativeGemm(path, coreType, threads, true)

    /// Whether a product of this size uses more than one thread.
    member private _.Threaded(m: int, n: int, k: int) =
        threads.SetThreads.IsSome && threads.MaxThreads > 1 && not GemmScope.SingleThreaded && int64 m * int64 n * int64 k >= threads.Threshold

    /// Before a large product: one large product at a time, on MaxThreads threads.
    member private _.Widen() =
        Monitor.Enter threads.Gate
        try threads.SetThreads.Value.Invoke threads.MaxThreads
        with _ ->
            Monitor.Exit threads.Gate
            reraise ()

    /// After a large product: OpenBLAS back to one thread.
    member private _.Narrow() =
        try threads.SetThreads.Value.Invoke 1 finally Monitor.Exit threads.Gate

    override this.ToString() = (this :> IGemmProvider).Name

    interface IGemmProvider with
        member _.Name =
            let core = if String.IsNullOrEmpty coreType then "" else $", {coreType} kernels"
            let native = $"native ({Path.GetFileName path}{core})"
            if byShape then $"{native} or managed, whichever is faster for the shape" else native
        [<HotPath>]
        member this.Dgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) =
            if byShape && GemmChoice.managedIsFaster transA m n k then
                ManagedKernel.gemm transA transB m n k alpha a lda b ldb beta c ldc
            else
                let ta = if transA then Cblas.Transpose else Cblas.NoTranspose
                let tb = if transB then Cblas.Transpose else Cblas.NoTranspose
                // Small products call straight through (no lock): they are most calls.
                if this.Threaded(m, n, k) then
                    this.Widen()
                    try Cblas.dgemm (Cblas.ColumnMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) finally this.Narrow()
                else Cblas.dgemm (Cblas.ColumnMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        [<HotPath>]
        member this.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) =
            if byShape && GemmChoice.managedIsFaster transA m n k then
                ManagedKernel.gemm transA transB m n k alpha a lda b ldb beta c ldc
            else
                let ta = if transA then Cblas.Transpose else Cblas.NoTranspose
                let tb = if transB then Cblas.Transpose else Cblas.NoTranspose
                if this.Threaded(m, n, k) then
                    this.Widen()
                    try Cblas.sgemm (Cblas.ColumnMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) finally this.Narrow()
                else Cblas.sgemm (Cblas.ColumnMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)

/// Finding and loading a native CBLAS.
module NativeBlas =

    /// The libraries tried, in order: OpenBLAS (Debian's libopenblas0-pthread on Linux), MKL's
    /// runtime, BLIS, then the platform's generic CBLAS names; on macOS, Accelerate last.
    let candidates () : string list =
        if OperatingSystem.IsWindows() then
            [ "libopenblas.dll"; "openblas.dll"; "mkl_rt.2.dll"; "mkl_rt.dll"; "blis.dll"; "cblas.dll" ]
        elif OperatingSystem.IsMacOS() then
            [ "libopenblas.0.dylib"; "libopenblas.dylib"; "/opt/homebrew/opt/openblas/lib/libopenblas.dylib"
              "/usr/local/opt/openblas/lib/libopenblas.dylib"; "libmkl_rt.2.dylib"; "libmkl_rt.dylib"; "libblis.4.dylib"
              "/System/Library/Frameworks/Accelerate.framework/Accelerate" ]
        else
            [ "libopenblas.so.0"; "libopenblas.so"; "libmkl_rt.so.2"; "libmkl_rt.so"; "libblis.so.4"; "libblis.so"; "libcblas.so.3"; "libblas.so.3" ]

    /// The OPENBLAS_CORETYPE to set before OpenBLAS loads, and why. Debian's OpenBLAS 0.3.21
    /// does not recognise AMD's AVX-512 processors (Zen 4 and 5) and falls back to AVX2 kernels at
    /// about half speed, so on a processor with AVX-512 F, BW, DQ and VL it is told "SkylakeX"
    /// (whose kernels give correct results there), overriding what the environment says. The
    /// environment variable FUNCTIONALBACKPROP_OPENBLAS_CORETYPE chooses another core, or with
    /// "keep" leaves OPENBLAS_CORETYPE as it is.
    let preferredCoreType () : string option =
        match Environment.GetEnvironmentVariable "FUNCTIONALBACKPROP_OPENBLAS_CORETYPE" with
        | null | "" ->
            if Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported then Some "SkylakeX" else None
        | "keep" -> None
        | value -> Some value

    let private sync = obj ()
    let mutable private loaded: NativeGemm option = None
    let mutable private attempted = false
    let mutable private failures: string list = []

    let private export (handle: nativeint) (name: string) =
        match NativeLibrary.TryGetExport(handle, name) with
        | true, address -> Some address
        | _ -> None

    /// The optimised BLAS families, each recognised by a symbol only it exports. A CBLAS with
    /// none of them, such as the reference (netlib) library that is often the only one on a
    /// fresh Debian machine, multiplies slower than the managed kernel (W1 measured 1.7× slower),
    /// so it is used only when FUNCTIONALBACKPROP_GEMM=native asks for a native library outright.
    /// Recognising by symbol, not by file name, also sees through a link named libopenblas.so.0
    /// that leads to another library.
    let private families =
        [ "openblas_get_config", "OpenBLAS"
          "MKL_Get_Max_Threads", "MKL"
          "bli_info_get_version_str", "BLIS"
          "ATL_buildinfo", "ATLAS"
          "vDSP_vaddD", "Accelerate" ]

    /// Sets a variable in the native environment too (.NET's own does not reach it on Unix).
    let private setNative (name: string) (value: string) =
        Environment.SetEnvironmentVariable(name, value)
        if not (OperatingSystem.IsWindows()) then
            try Libc.setenv (name, value, 1) |> ignore with _ -> ()

    /// What OpenBLAS reads when it loads: the kernels to use, and how soon idle workers sleep.
    let private prepareEnvironment () =
        match preferredCoreType () with
        | Some core -> setNative "OPENBLAS_CORETYPE" core
        | None -> ()
        // OpenBLAS's idle worker threads spin (sched_yield) for about 2²⁸ cycles after a
        // multi-threaded product before sleeping. Most products here run on one thread, and
        // on a small machine the spinning worker takes a core from the caller; 2¹⁶ cycles
        // (tens of microseconds) is ample between the products of one large training step.
        if String.IsNullOrEmpty(Environment.GetEnvironmentVariable "OPENBLAS_THREAD_TIMEOUT") then
            setNative "OPENBLAS_THREAD_TIMEOUT" "16"

    /// The candidate's handle if it loads, exports the CBLAS products, and is an optimised
    /// library (or any CBLAS when `anyCblas`); otherwise None, with the reason recorded.
    let private attempt (anyCblas: bool) (name: string) : (string * nativeint) option =
        let refuse (why: string) =
            failures <- $"{name}: {why}" :: failures
            None
        match NativeLibrary.TryLoad(name, typeof<NativeGemm>.Assembly, Nullable()) with
        | false, _ -> refuse "not found"
        | true, handle ->
            match export handle "cblas_dgemm", export handle "cblas_sgemm" with
            | Some _, Some _ when anyCblas || families |> List.exists (fun (symbol, _) -> (export handle symbol).IsSome) -> Some(name, handle)
            | Some _, Some _ -> refuse "a CBLAS of no optimised family (the reference BLAS, slower than the managed kernel); FUNCTIONALBACKPROP_GEMM=native would use it"
            | _ -> refuse "no cblas_dgemm/cblas_sgemm"

    /// The provider over a loaded library: its products bound to it, and OpenBLAS's thread
    /// control and kernel name where it has them.
    let private bind (name: string) (handle: nativeint) : NativeGemm =
        NativeLibrary.SetDllImportResolver(
            typeof<NativeGemm>.Assembly,
            DllImportResolver(fun library _ _ -> if library = Cblas.Library then handle else IntPtr.Zero))
        let setThreads =
            export handle "openblas_set_num_threads"
            |> Option.map (fun address -> Marshal.GetDelegateForFunctionPointer<SetThreads> address)
        let core =
            export handle "openblas_get_corename"
            |> Option.map (fun address -> Marshal.PtrToStringAnsi((Marshal.GetDelegateForFunctionPointer<GetCoreName> address).Invoke()))
            |> Option.bind Option.ofObj
            |> Option.defaultValue ""
        NativeGemm(name, core, NativeThreads setThreads, false)

    /// Loads the first candidate library that exports cblas_dgemm and cblas_sgemm and belongs to
    /// an optimised family (once per process; later calls return the same result). None when
    /// there is none, and then loadFailures says what was tried. With
    /// FUNCTIONALBACKPROP_GEMM=managed nothing is loaded: the process runs as on a machine
    /// without a native BLAS; with FUNCTIONALBACKPROP_GEMM=native any CBLAS is taken.
    let load () : NativeGemm option =
        lock sync (fun () ->
            if not attempted then
                // Read first: an invalid request throws here, at this call and at every later one.
                let request = GemmRequest.current ()
                attempted <- true
                match request with
                | ManagedOnly -> failures <- [ $"{GemmRequest.Variable}=managed: no native library is loaded" ]
                | request ->
                    prepareEnvironment ()
                    loaded <- candidates () |> List.tryPick (attempt (request = NativeOnly)) |> Option.map (fun (name, handle) -> bind name handle)
            loaded)

    /// What load tried, and why each candidate it passed over (or every one, when none loaded) was not used.
    let loadFailures () : string list = lock sync (fun () -> List.rev failures)
