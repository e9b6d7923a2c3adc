using System.IO;
using Xunit;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>
/// Issue 23, point 6: the FunctionalBackprop package's README (what NuGet shows) has "Your own
/// data", the repository README's section, whose code <see cref="QuickStartTests"/> runs; the
/// packaging tests check that the packed README shows that code as README.md has it.
/// </summary>
public class PackageReadmeTests
{
    [Fact]
    public void TheFacadePackageReadmeTakesYourOwnDataFromTheRepositoryReadme()
    {
        var template = File.ReadAllText(Path.Combine(Repository.Root(), "src", "Facade.CSharp", "package-readme.md"));
        Assert.Contains("\n## Your own data\n", template.Replace("\r\n", "\n"));
        Assert.Contains("{{README.md ## Your own data ```csharp}}", template);
        Assert.False(string.IsNullOrWhiteSpace(Repository.ReadmeCSharp("Your own data")));
    }
}
