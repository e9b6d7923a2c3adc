using System;
using System.Collections.Generic;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>Translations between .NET shapes and the F# core's. No arithmetic happens here.</summary>
internal static class CoreConvert
{
    public static Core.Loss ToCore(this Loss loss, string parameter = "loss") => loss switch
    {
        Loss.Quadratic => Core.Loss.Quadratic,
        Loss.CrossEntropy => Core.Loss.CrossEntropy,
        Loss.BinaryCrossEntropy => Core.Loss.BinaryCrossEntropy,
        _ => throw new ArgumentOutOfRangeException(parameter, loss, $"{loss} is not a loss."),
    };

    public static Loss FromCore(Core.Loss loss) =>
        loss.IsCrossEntropy ? Loss.CrossEntropy : loss.IsBinaryCrossEntropy ? Loss.BinaryCrossEntropy : Loss.Quadratic;

    public static Core.Initializer ToCore(this Initializer initializer) => initializer switch
    {
        Initializer.Zeros => Core.Initializer.Zeros,
        Initializer.SmallUniform => Core.Initializer.SmallUniform,
        Initializer.StandardNormal => Core.Initializer.StandardNormal,
        Initializer.ScaledNormal => Core.Initializer.ScaledNormal,
        Initializer.XavierUniform => Core.Initializer.XavierUniform,
        Initializer.XavierNormal => Core.Initializer.XavierNormal,
        Initializer.HeNormal => Core.Initializer.HeNormal,
        _ => throw new ArgumentOutOfRangeException(nameof(initializer), initializer, $"{initializer} is not an initializer."),
    };

    public static FSharpList<TItem> List<TItem>(IEnumerable<TItem> items) => ListModule.OfSeq(items);

    public static FSharpOption<TItem> Option<TItem>(TItem? item)
        where TItem : class => item is null ? FSharpOption<TItem>.None : FSharpOption<TItem>.Some(item);
}
