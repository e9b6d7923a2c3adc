using System;

namespace FunctionalBackprop;

/// <summary>
/// The core checks its arguments under its own names ("learning rate", "x"); a facade caller knows
/// only the facade's. These run a core call and raise its <see cref="ArgumentException"/> again
/// under the caller's parameter name, keeping the core's explanation. The core's exception is not
/// kept as the inner one: it would only repeat the message under the core's name.
/// </summary>
internal static class CallerTerms
{
    /// <summary>Runs a core call; its argument errors are raised again under <paramref name="parameter"/>.</summary>
    public static TResult Call<TResult>(Func<TResult> call, string parameter) => Call(call, _ => parameter);

    /// <summary>Runs a core call; its argument errors are raised again under the name <paramref name="rename"/> gives the core's.</summary>
    public static TResult Call<TResult>(Func<TResult> call, Func<string?, string> rename)
    {
        try
        {
            return call();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new ArgumentOutOfRangeException(rename(e.ParamName), e.ActualValue, Explanation(e));
        }
        catch (ArgumentException e) when (e.GetType() == typeof(ArgumentException))
        {
            throw new ArgumentException(Explanation(e), rename(e.ParamName));
        }
    }

    /// <summary>Runs a core check; its argument errors are raised again under <paramref name="parameter"/>.</summary>
    public static void Check(Action check, string parameter) => Call(() => { check(); return 0; }, _ => parameter);

    /// <summary>The exception's own sentence, without the runtime's "(Parameter 'x')" and "Actual value was …" suffixes.</summary>
    public static string Explanation(ArgumentException e)
    {
        var suffix = e is ArgumentOutOfRangeException range
            ? new ArgumentOutOfRangeException(range.ParamName, range.ActualValue, string.Empty).Message
            : new ArgumentException(string.Empty, e.ParamName).Message;
        return suffix.Length > 0 && e.Message.EndsWith(suffix, StringComparison.Ordinal) ? e.Message[..^suffix.Length] : e.Message;
    }
}
