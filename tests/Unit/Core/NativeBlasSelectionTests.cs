using System;
using System.IO;
using System.Text.RegularExpressions;
using Xunit;

namespace FunctionalBackprop.Tests.CoreApi;

/// <summary>
/// A native BLAS is chosen by what it is, not by its file name: the reference (netlib) BLAS,
/// slower than the library's own managed kernel, is never taken on its own, even behind a link
/// named libopenblas.so.0. The main job runs in a process of its own, as a user runs it, with the
/// link's folder first on LD_LIBRARY_PATH.
/// </summary>
public sealed class NativeBlasSelectionTests
{
    /// <summary>Debian's reference BLAS (package libblas3), which .ci/run installs.</summary>
    private const string ReferenceBlas = "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3";

    private static string Provider(string output)
    {
        var match = Regex.Match(output, "Matrix products: ([^;]+);");
        Assert.True(match.Success, $"The main job did not say which provider it used:\n{output}");
        return match.Groups[1].Value;
    }

    /// <summary>A fact that needs Debian's reference BLAS: skipped, saying so, where it is not installed.</summary>
    public sealed class ReferenceBlasFactAttribute : FactAttribute
    {
        /// <summary>Skips the test unless the reference BLAS is installed.</summary>
        public ReferenceBlasFactAttribute()
        {
            if (!OperatingSystem.IsLinux() || !File.Exists(ReferenceBlas))
            {
                Skip = $"The reference BLAS ({ReferenceBlas}, Debian's libblas3; .ci/run installs it) is not installed: there is nothing to mistake for OpenBLAS.";
            }
        }
    }

    [ReferenceBlasFact]
    public void TheReferenceBlasBehindALinkNamedLibOpenBlasIsNotChosen()
    {
        var folder = Directory.CreateTempSubdirectory("fake-openblas-").FullName;
        try
        {
            File.CreateSymbolicLink(Path.Combine(folder, "libopenblas.so.0"), ReferenceBlas);
            var (_, _, output) = MainJob.Train(folder, "--epochs 1 --hidden 5", ("LD_LIBRARY_PATH", folder));
            Assert.Equal("managed", Provider(output));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Support.NativeBlasFact]
    public void AnOptimisedBlasIsChosenAndNamedWhenInstalled()
    {
        var folder = Directory.CreateTempSubdirectory("openblas-").FullName;
        try
        {
            var (_, _, output) = MainJob.Train(folder, "--epochs 1 --hidden 5");
            Assert.StartsWith("native", Provider(output));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
