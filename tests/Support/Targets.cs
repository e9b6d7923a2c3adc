using System;
using System.Linq;

namespace FunctionalBackprop.Testing;

/// <summary>Targets for tests.</summary>
internal static class Targets
{
    /// <summary>One-hot targets of <paramref name="count"/> examples over <paramref name="classes"/> classes, example j of class <paramref name="classOf"/>(j).</summary>
    public static double[][] OneHot(int count, int classes, Func<int, int> classOf) =>
        Enumerable.Range(0, count).Select(j => Enumerable.Range(0, classes).Select(i => i == classOf(j) % classes ? 1.0 : 0.0).ToArray()).ToArray();
}
