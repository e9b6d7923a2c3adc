using System.Globalization;
using System.Linq;

namespace FunctionalBackprop;

/// <summary>
/// How a C# caller writes a value, for messages: <c>Optimizer.Sgd(100)</c>, <c>Schedule.Cosine(0.05, 0.0005)</c>.
/// The core names things as F# writes them (<c>sgd(constant(100))</c>); a facade message names
/// them as the caller typed them, so the fix it suggests can be pasted back.
/// </summary>
internal static class CSharpCode
{
    /// <summary>A number as a C# literal: the shortest text that reads back as the same double.</summary>
    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A call with the arguments that are given (null ones are left out): <c>Optimizer.Adam(0.01, beta1: 0.8)</c>.</summary>
    public static string Call(string method, params string?[] arguments) =>
        $"{method}({string.Join(", ", arguments.Where(a => a is not null))})";

    /// <summary>A named argument, or null (left out) when it has its default value.</summary>
    public static string? Named(string name, double value, double byDefault) =>
        value.Equals(byDefault) ? null : $"{name}: {Number(value)}";
}
