using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Xunit;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>A C# developer never meets an F# type, nor one of the F# core's, in the facade.</summary>
public class PublicApiTests
{
    private static readonly Assembly Facade = typeof(NeuralNetwork<>).Assembly;

    internal static bool IsForeign(Type type) =>
        type.Assembly.GetName().Name is "FSharp.Core" or "FunctionalBackprop.Core";

    /// <summary>Every type a signature mentions, through arrays, generics, by-refs and constraints.</summary>
    internal static IEnumerable<Type> Mentioned(Type type)
    {
        var seen = new HashSet<Type>();
        var pending = new Stack<Type>();
        pending.Push(type);
        while (pending.Count > 0)
        {
            var t = pending.Pop();
            if (!seen.Add(t))
            {
                continue;
            }

            yield return t;
            var parts = (t.HasElementType ? new[] { t.GetElementType()! } : Type.EmptyTypes)
                .Concat(t.IsGenericType ? t.GetGenericArguments() : Type.EmptyTypes)
                .Concat(t.IsGenericParameter ? t.GetGenericParameterConstraints() : Type.EmptyTypes);
            foreach (var part in parts)
            {
                pending.Push(part);
            }
        }
    }

    internal static IEnumerable<(string Where, Type Type)> Signatures(Type type)
    {
        const BindingFlags visible = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        if (type.BaseType is { } b)
        {
            yield return ($"{type} base", b);
        }

        foreach (var i in type.GetInterfaces())
        {
            yield return ($"{type} implements", i);
        }

        foreach (var g in type.GetGenericArguments())
        {
            yield return ($"{type} type parameter", g);
        }

        foreach (var member in type.GetMembers(visible).Concat(type.GetMembers(BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly).Where(IsProtected)))
        {
            switch (member)
            {
                case FieldInfo f:
                    yield return ($"{type}.{f.Name}", f.FieldType);
                    break;
                case PropertyInfo p:
                    yield return ($"{type}.{p.Name}", p.PropertyType);
                    break;
                case EventInfo e:
                    yield return ($"{type}.{e.Name}", e.EventHandlerType!);
                    break;
                case MethodBase m:
                    if (m is MethodInfo mi)
                    {
                        yield return ($"{type}.{m.Name} returns", mi.ReturnType);
                        foreach (var g in mi.GetGenericArguments())
                        {
                            yield return ($"{type}.{m.Name} type parameter", g);
                        }
                    }

                    foreach (var p in m.GetParameters())
                    {
                        yield return ($"{type}.{m.Name}({p.Name})", p.ParameterType);
                    }

                    break;
            }
        }
    }

    private static bool IsProtected(MemberInfo member) => member switch
    {
        MethodBase m => m.IsFamily || m.IsFamilyOrAssembly,
        FieldInfo f => f.IsFamily || f.IsFamilyOrAssembly,
        _ => false,
    };

    [Fact]
    public void NoPublicSignatureMentionsAnFSharpOrCoreType()
    {
        var offences = Facade.GetExportedTypes()
            .SelectMany(Signatures)
            .SelectMany(s => Mentioned(s.Type).Where(IsForeign).Select(t => $"{s.Where}: {t.FullName}"))
            .Distinct()
            .ToList();
        Assert.True(offences.Count == 0, "F# or core types in the facade's public API:\n" + string.Join("\n", offences));
    }

    [Fact]
    public void TheCheckSeesForeignTypesWhereTheyAre()
    {
        // The check itself must be able to fail: the core's own API is full of F# types.
        var core = typeof(FunctionalBackprop.Core.Network<>).Assembly.GetExportedTypes().SelectMany(Signatures)
            .SelectMany(s => Mentioned(s.Type)).Where(t => t.Assembly.GetName().Name == "FSharp.Core");
        Assert.NotEmpty(core);
    }

    [Fact]
    public void EveryPublicTypeLivesInTheFacadeNamespace()
    {
        Assert.All(Facade.GetExportedTypes(), t => Assert.Equal("FunctionalBackprop", t.Namespace));
    }
}
