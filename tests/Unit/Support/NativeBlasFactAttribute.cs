using Xunit;

namespace FunctionalBackprop.Tests.Support;

/// <summary>
/// A fact that needs a native BLAS: skipped, saying why, on a machine without one (and when
/// FUNCTIONALBACKPROP_GEMM=managed keeps native libraries out of the process, as .ci/run's second
/// run of the suite does).
/// </summary>
public sealed class NativeBlasFactAttribute : FactAttribute
{
    /// <summary>Skips the test unless a native BLAS loads.</summary>
    public NativeBlasFactAttribute()
    {
        if (!LinearAlgebra.NativeAvailable)
        {
            Skip = "No native BLAS on this machine (install one, e.g. Debian's libopenblas0-pthread, to run this test).";
        }
    }
}
