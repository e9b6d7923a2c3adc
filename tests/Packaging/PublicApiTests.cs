using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.FSharp.Reflection;
using PublicApiGenerator;
using Xunit;

namespace FunctionalBackprop.Packaging;

/// <summary>
/// Each library's public API, as C# declarations, equals its committed snapshot
/// (src/&lt;project&gt;/PublicApi.txt), so that every change to the API shows in review as a diff of
/// that file. To accept a change, rewrite the snapshots and review their diff:
/// <code>FUNCTIONALBACKPROP_ACCEPT_API=1 dotnet test tests/Packaging -c Release --filter PublicApiTests</code>
/// </summary>
public class PublicApiTests
{
    /// <summary>The environment variable that rewrites the snapshots instead of comparing with them.</summary>
    public const string Accept = "FUNCTIONALBACKPROP_ACCEPT_API";

    public static TheoryData<string> LibraryNames() => new(Repository.Libraries.Select(library => library.AssemblyName));

    /// <summary>
    /// The public API of one assembly, in a form that changes only when the API does: no assembly
    /// attributes (its version and build), none of the attributes the F# compiler adds for
    /// debuggers to every type, and each attribute's array argument on one line (F#'s curried
    /// arities, CompilationArgumentCounts, which tell <c>f a b</c> from <c>f (a, b)</c>; C#'s tuple
    /// element names).
    /// </summary>
    public static string PublicApiOf(Assembly assembly)
    {
        var text = assembly.GeneratePublicApi(new ApiGeneratorOptions
        {
            IncludeAssemblyAttributes = false,
            ExcludeAttributes =
            [
                // F# marks what each compiled member was in source (a module, a field, a union
                // case); the declarations show that already. PublicApiGenerator fails on it, too.
                "Microsoft.FSharp.Core.CompilationMappingAttribute",
                "System.Diagnostics.DebuggerDisplayAttribute",
                "System.Diagnostics.DebuggerTypeProxyAttribute",
                "System.Diagnostics.DebuggerBrowsableAttribute",
                "System.Diagnostics.DebuggerNonUserCodeAttribute",
                "System.Diagnostics.CodeAnalysis.DynamicDependencyAttribute",
            ],
        });
        var oneLineArrays = Regex.Replace(text.Replace("\r\n", "\n"), @"new (int|string)\[\] \{\s*([^{}]*?)\s*\}",
            match => $"new {match.Groups[1].Value}[] {{ {Regex.Replace(match.Groups[2].Value, @",\s+", ", ")} }}");
        return oneLineArrays.TrimEnd('\n') + "\n" + UnionCases(assembly) + MultidimensionalArrays(assembly);
    }

    /// <summary>
    /// The public members whose signatures hold a multidimensional array. PublicApiGenerator prints
    /// T[,] as T[], so <c>int[] Classify(T[,] inputs)</c> would read <c>int[] Classify(T[] inputs)</c>,
    /// the same as another overload, and changing a rank would not show.
    /// </summary>
    private static string MultidimensionalArrays(Assembly assembly)
    {
        const BindingFlags declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        static bool Visible(MethodBase? m) => m is not null && (m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly);
        static bool HasRank(Type type) =>
            (type.IsArray && (type.GetArrayRank() > 1 || HasRank(type.GetElementType()!))) ||
            (type.IsByRef && HasRank(type.GetElementType()!)) ||
            (type.IsGenericType && type.GetGenericArguments().Any(HasRank));
        var lines = new System.Collections.Generic.List<string>();
        foreach (var type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            var signatures = type.GetMethods(declared).Where(m => Visible(m) && !m.IsSpecialName).Select(m => (Member: (MethodBase)m, Returns: m.ReturnType))
                .Concat(type.GetConstructors(declared).Where(c => Visible(c)).Select(c => (Member: (MethodBase)c, Returns: typeof(void))));
            foreach (var (member, returns) in signatures)
            {
                var parameters = member.GetParameters();
                if (HasRank(returns) || parameters.Any(p => HasRank(p.ParameterType)))
                {
                    lines.Add($"// {TypeName(type)}.{member.Name}({string.Join(", ", parameters.Select(p => $"{TypeName(p.ParameterType)} {p.Name}"))}): {TypeName(returns)}");
                }
            }

            foreach (var property in type.GetProperties(declared).Where(p => Visible(p.GetMethod) && HasRank(p.PropertyType)))
            {
                lines.Add($"// {TypeName(type)}.{property.Name}: {TypeName(property.PropertyType)}");
            }
        }

        return lines.Count == 0 ? string.Empty : "// Members with multidimensional arrays, which the declarations above print as T[]:\n" + string.Join("\n", lines.Order(StringComparer.Ordinal)) + "\n";
    }

    /// <summary>
    /// The cases of the assembly's public F# unions and their fields. The members F# compiles
    /// them to (NewX, IsX, Item) are marked compiler-generated, which PublicApiGenerator leaves
    /// out, so without these lines adding a case or changing a field would not show.
    /// </summary>
    private static string UnionCases(Assembly assembly)
    {
        // Public unions only: a union whose cases are private is an abstract type to its users.
        // A union's cases with fields are nested classes that F# also reports as unions.
        const BindingFlags cases = BindingFlags.Public;
        var unions = assembly.GetExportedTypes()
            .Where(type => FSharpType.IsUnion(type, cases) && !(type.IsNested && FSharpType.IsUnion(type.DeclaringType!, cases)))
            .OrderBy(type => type.FullName, StringComparer.Ordinal)
            .ToList();
        if (unions.Count == 0)
        {
            return string.Empty;
        }

        var text = new StringBuilder("// The cases of the F# unions above, in declaration order:\n");
        foreach (var union in unions)
        {
            text.Append("// ").Append(TypeName(union)).Append('\n');
            foreach (var unionCase in FSharpType.GetUnionCases(union, cases))
            {
                var fields = unionCase.GetFields().Select(field => $"{field.Name}: {TypeName(field.PropertyType)}");
                text.Append("//     | ").Append(unionCase.Name);
                if (unionCase.GetFields().Length > 0)
                {
                    text.Append(" of ").Append(string.Join(" * ", fields));
                }

                text.Append('\n');
            }
        }

        return text.ToString();
    }

    private static string TypeName(Type type)
    {
        if (type.IsGenericParameter)
        {
            return type.Name;
        }

        if (type.IsArray)
        {
            return TypeName(type.GetElementType()!) + "[" + new string(',', type.GetArrayRank() - 1) + "]";
        }

        var name = (type.FullName ?? type.Name).Split('`')[0].Replace('+', '.');
        return type.IsGenericType
            ? $"{(type.GetGenericTypeDefinition().FullName ?? type.Name).Split('`')[0].Replace('+', '.')}<{string.Join(", ", type.GetGenericArguments().Select(TypeName))}>"
            : name;
    }

    [Theory]
    [MemberData(nameof(LibraryNames))]
    public void ThePublicApiEqualsItsSnapshot(string assemblyName)
    {
        var library = Repository.Libraries.Single(l => l.AssemblyName == assemblyName);
        var api = PublicApiOf(Assembly.Load(assemblyName));
        if (Environment.GetEnvironmentVariable(Accept) == "1")
        {
            File.WriteAllText(library.ApiSnapshot, api);
            return;
        }

        Assert.True(File.Exists(library.ApiSnapshot),
            $"{assemblyName} has no API snapshot ({library.ApiSnapshot}). Create it with {Accept}=1 dotnet test tests/Packaging --filter PublicApiTests, and commit it.");
        var diff = LineDiff.Between(File.ReadAllText(library.ApiSnapshot), api);
        Assert.True(diff.Length == 0,
            $"The public API of {assemblyName} differs from {Path.GetRelativePath(Repository.Root, library.ApiSnapshot)} (- snapshot, + now):\n{diff}\n" +
            $"If the change is intended, accept it with {Accept}=1 dotnet test tests/Packaging --filter PublicApiTests, and commit the snapshot with the change.");
    }

    [Fact]
    public void EveryLibraryOfSrcIsCovered()
    {
        var projects = Directory.GetDirectories(Path.Combine(Repository.Root, "src"))
            .Where(folder => Directory.EnumerateFiles(folder, "*.*proj").Any())
            .Select(folder => Path.GetFileName(folder))
            .OrderBy(name => name, StringComparer.Ordinal);
        var covered = Repository.Libraries.Select(library => Path.GetFileName(library.ProjectFolder)).OrderBy(name => name, StringComparer.Ordinal);
        Assert.Equal(projects, covered);
    }
}
