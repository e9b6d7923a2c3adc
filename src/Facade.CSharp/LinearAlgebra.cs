using System;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>
/// Which matrix-product provider the library uses: a native CBLAS (OpenBLAS, MKL, BLIS or
/// Accelerate, found at the first product) or the library's own managed kernel. Results differ
/// between them only by rounding. The environment variable FUNCTIONALBACKPROP_GEMM
/// (managed or native) chooses one before the first product; it is read once per process, and
/// any other value makes <see cref="NativeAvailable"/>, <see cref="TryUseNative"/> and, until
/// <see cref="UseManaged"/> or <see cref="TryUseNative"/> has chosen a provider, the products and
/// <see cref="Provider"/> throw an <see cref="InvalidOperationException"/> that names the two.
/// </summary>
public static class LinearAlgebra
{
    /// <summary>The provider in use: "native (libopenblas.so.0, SkylakeX kernels)", "managed", …</summary>
    public static string Provider => Core.Gemm.provider().Name;

    /// <summary>
    /// The shards per mini-batch that <see cref="FitOptions{T}.Shards"/> = 0 (its default) stands
    /// for with the provider in use: 1 with a native CBLAS, which spreads each large product over
    /// the cores itself; one per processor with the managed kernel.
    /// </summary>
    public static int AutomaticShards => Core.Shards.automatic();

    /// <summary>Whether a native CBLAS could be loaded on this machine.</summary>
    public static bool NativeAvailable => Core.Gemm.native() is not null;

    /// <summary>Uses the managed kernel for every later product in the process.</summary>
    public static void UseManaged() => Core.Gemm.useProvider(Core.ManagedGemm.Instance);

    /// <summary>Uses the native CBLAS for every later product, if one loads.</summary>
    /// <returns>Whether a native library is now in use.</returns>
    public static bool TryUseNative()
    {
        var native = Core.Gemm.native();
        if (native is null)
        {
            return false;
        }

        Core.Gemm.useProvider(native.Value);
        return true;
    }

    /// <summary>
    /// The most threads a large native product uses (products of fewer multiply-adds than the
    /// native provider's threshold always run on one thread). Throws when no native library loads.
    /// </summary>
    /// <exception cref="InvalidOperationException">No native CBLAS is available.</exception>
    public static int NativeMaxThreads
    {
        get => Native().MaxThreads;
        set => Native().MaxThreads = value;
    }

    private static Core.NativeGemm Native() =>
        Core.Gemm.native()?.Value ?? throw new InvalidOperationException("No native CBLAS is loaded; install one (Debian: apt-get install libopenblas0-pthread).");
}
