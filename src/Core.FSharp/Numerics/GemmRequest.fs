namespace FunctionalBackprop.Core

open System

/// What the environment variable FUNCTIONALBACKPROP_GEMM asks of the matrix products.
type internal GemmRequest =
    /// Unset or empty: a native CBLAS of an optimised family when one loads, with the managed
    /// kernel beside it by shape; the managed kernel alone otherwise.
    | Automatic
    /// "managed": the managed kernel alone; no native library is loaded.
    | ManagedOnly
    /// "native": a native CBLAS alone (any CBLAS, even the reference one); an error if none loads.
    | NativeOnly

/// FUNCTIONALBACKPROP_GEMM, read and parsed once per process: the provider's choice and the
/// native library's loading both ask `current`, never the environment, so no product reads it.
module internal GemmRequest =

    /// The variable's name.
    [<Literal>]
    let Variable = "FUNCTIONALBACKPROP_GEMM"

    /// The request a value of the variable makes (null: unset); any other value is an error that
    /// names the two it accepts.
    let parse (value: string) : GemmRequest =
        match value with
        | null | "" -> Automatic
        | "managed" -> ManagedOnly
        | "native" -> NativeOnly
        | other ->
            raise (InvalidOperationException($"{Variable}={other} names no provider: use \"managed\" or \"native\", or unset it to take a native CBLAS when one loads and the managed kernel otherwise."))

    let private once = lazy (parse (Environment.GetEnvironmentVariable Variable))

    /// The process's request, read from the environment at the first call (an invalid value
    /// throws at that call and every later one).
    let current () : GemmRequest = once.Force()
