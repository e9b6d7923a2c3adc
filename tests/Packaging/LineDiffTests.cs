using Xunit;

namespace FunctionalBackprop.Packaging;

/// <summary>The diff that the API test prints: it names what changed, and nothing when nothing did.</summary>
public class LineDiffTests
{
    [Fact]
    public void EqualTextsHaveNoDiff() => Assert.Equal(string.Empty, LineDiff.Between("a\nb\n", "a\r\nb"));

    [Fact]
    public void AChangedSignatureShowsAsOneLineOutAndOneIn()
    {
        var before = "class A\n{\n    void F(int x);\n    void G();\n}\n";
        var after = "class A\n{\n    void F(long x);\n    void G();\n}\n";
        Assert.Equal("@@ line 1 @@\n  class A\n  {\n-     void F(int x);\n+     void F(long x);\n      void G();\n  }\n",
            LineDiff.Between(before, after));
    }

    [Fact]
    public void ContextIsLimitedAndHunksAreSeparated()
    {
        var before = string.Join("\n", "0 1 2 3 4 5 6 7 8 9".Split(' '));
        var after = before.Replace("1", "one").Replace("8", "eight");
        Assert.Equal("@@ line 1 @@\n  0\n- 1\n+ one\n  2\n@@ line 8 @@\n  7\n- 8\n+ eight\n  9\n", LineDiff.Between(before, after, context: 1));
    }
}
