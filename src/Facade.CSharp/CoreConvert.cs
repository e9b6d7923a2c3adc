using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>Translations between .NET shapes and the F# core's. No arithmetic happens here.</summary>
internal static class CoreConvert
{
    public static Core.Loss ToCore(this Loss loss) => loss switch
    {
        Loss.Quadratic => Core.Loss.Quadratic,
        Loss.CrossEntropy => Core.Loss.CrossEntropy,
        Loss.BinaryCrossEntropy => Core.Loss.BinaryCrossEntropy,
        _ => throw new ArgumentOutOfRangeException(nameof(loss), loss, "Not a known loss."),
    };

    public static Core.Initializer ToCore(this Initializer initializer) => initializer switch
    {
        Initializer.Zeros => Core.Initializer.Zeros,
        Initializer.SmallUniform => Core.Initializer.SmallUniform,
        Initializer.StandardNormal => Core.Initializer.StandardNormal,
        Initializer.ScaledNormal => Core.Initializer.ScaledNormal,
        Initializer.XavierUniform => Core.Initializer.XavierUniform,
        Initializer.XavierNormal => Core.Initializer.XavierNormal,
        Initializer.HeNormal => Core.Initializer.HeNormal,
        _ => throw new ArgumentOutOfRangeException(nameof(initializer), initializer, "Not a known initializer."),
    };

    /// <summary>A matrix with one column per example, from examples given as rows.</summary>
    public static Core.Matrix<T> Columns<T>(IReadOnlyList<T[]> examples, int width)
        where T : IFloatingPointIeee754<T>
    {
        var values = new T[examples.Count * width];
        for (var j = 0; j < examples.Count; j++)
        {
            examples[j].CopyTo(values, j * width);
        }

        return Core.Matrix.ofColumnMajor(width, examples.Count, values);
    }

    /// <summary>The columns of a matrix as rows (one array per example).</summary>
    public static T[][] Rows<T>(Core.Matrix<T> m)
        where T : IFloatingPointIeee754<T>
    {
        var result = new T[m.Cols][];
        var values = m.AsSpan();
        for (var j = 0; j < m.Cols; j++)
        {
            result[j] = values.Slice(j * m.Rows, m.Rows).ToArray();
        }

        return result;
    }

    /// <summary>A matrix as a .NET two-dimensional array [row, column].</summary>
    public static T[,] ToArray2D<T>(Core.Matrix<T> m)
        where T : IFloatingPointIeee754<T>
    {
        var result = new T[m.Rows, m.Cols];
        var values = m.AsSpan();
        for (var j = 0; j < m.Cols; j++)
        {
            for (var i = 0; i < m.Rows; i++)
            {
                result[i, j] = values[i + (j * m.Rows)];
            }
        }

        return result;
    }

    public static FSharpList<TItem> List<TItem>(IEnumerable<TItem> items) => ListModule.OfSeq(items);

    public static FSharpOption<TItem> Option<TItem>(TItem? item)
        where TItem : class => item is null ? FSharpOption<TItem>.None : FSharpOption<TItem>.Some(item);
}
