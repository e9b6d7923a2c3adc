using System;
using System.Collections.Generic;
using System.Numerics;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FunctionalBackprop.MLNet.Data;

/// <summary>
/// Reads a data view's feature and label columns through one row cursor into a
/// <see cref="Dataset{T}"/>: each row's features as one input, its label as the target its kind
/// makes (<see cref="LabelKind"/>). Rows stream: only the two columns are read, and each row once.
/// </summary>
internal static class DataViewReader
{
    /// <summary>The examples of the data view.</summary>
    /// <param name="data">The data view.</param>
    /// <param name="features">Its feature column, checked.</param>
    /// <param name="label">Its label column, checked.</param>
    /// <param name="parameter">The caller's parameter that holds the data view, for the exceptions.</param>
    /// <exception cref="ArgumentException">A row holds a value no example can be made of, or there is no row; the message names the column and the row.</exception>
    public static Dataset<T> Read<T>(IDataView data, FeatureColumn features, LabelColumn label, string parameter)
        where T : IFloatingPointIeee754<T>
    {
        var featureColumn = data.Schema[features.Name];
        var labelColumn = data.Schema[label.Name];
        using var cursor = data.GetRowCursor(new[] { featureColumn, labelColumn });
        var readInput = features.IsDouble ? Inputs<double, T>(cursor, featureColumn, features, parameter) : Inputs<float, T>(cursor, featureColumn, features, parameter);
        var inputs = new List<T[]>();
        var classes = new List<int>();
        var targets = new List<T[]>();
        switch (label.Kind)
        {
            case LabelKind.Key:
                var key = cursor.GetGetter<uint>(labelColumn);
                uint k = 0;
                while (cursor.MoveNext())
                {
                    inputs.Add(readInput());
                    key(ref k);
                    // Key values count from 1; 0 is the missing key.
                    classes.Add(k != 0 ? (int)(k - 1) : throw new ArgumentException(label.Missing(cursor.Position), parameter));
                }

                break;
            case LabelKind.Boolean:
                var flag = cursor.GetGetter<bool>(labelColumn);
                var b = false;
                while (cursor.MoveNext())
                {
                    inputs.Add(readInput());
                    flag(ref b);
                    classes.Add(b ? 1 : 0);
                }

                break;
            case LabelKind.Number:
                var readTarget = label.Type == NumberDataViewType.Double ? Target<double, T>(cursor, labelColumn, label, parameter) : Target<float, T>(cursor, labelColumn, label, parameter);
                while (cursor.MoveNext())
                {
                    inputs.Add(readInput());
                    targets.Add(new[] { readTarget() });
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(label), label.Kind, "Not a label kind.");
        }

        if (inputs.Count == 0)
        {
            throw new ArgumentException($"The data view has no rows: there is nothing to make examples of (columns '{features.Name}' and '{label.Name}').", parameter);
        }

        return label.Kind switch
        {
            LabelKind.Key => Dataset<T>.FromLabels(inputs.ToArray(), classes, label.ClassCount),
            LabelKind.Boolean => Dataset<T>.FromLabels(inputs.ToArray(), classes, 2, singleOutput: true),
            _ => Dataset<T>.FromArrays(inputs.ToArray(), targets.ToArray()),
        };
    }

    /// <summary>A reader of the current row's features as a new array of T, checked finite.</summary>
    private static Func<T[]> Inputs<TColumn, T>(DataViewRowCursor cursor, DataViewSchema.Column column, FeatureColumn features, string parameter)
        where TColumn : unmanaged, IFloatingPointIeee754<TColumn>
        where T : IFloatingPointIeee754<T>
    {
        var getter = cursor.GetGetter<VBuffer<TColumn>>(column);
        var buffer = default(VBuffer<TColumn>);
        var dense = new TColumn[features.Width];
        return () =>
        {
            getter(ref buffer);
            // Sparse vectors (one-hot encodings, text features) hold their zeros implicitly: CopyTo writes them.
            buffer.CopyTo(dense);
            var input = new T[dense.Length];
            for (var i = 0; i < dense.Length; i++)
            {
                input[i] = T.CreateTruncating(dense[i]);
                if (!T.IsFinite(input[i]))
                {
                    throw new ArgumentException(features.NotFinite(double.CreateTruncating(dense[i]), cursor.Position, i), parameter);
                }
            }

            return input;
        };
    }

    /// <summary>A reader of the current row's numeric label as a T, checked finite.</summary>
    private static Func<T> Target<TColumn, T>(DataViewRowCursor cursor, DataViewSchema.Column column, LabelColumn label, string parameter)
        where TColumn : IFloatingPointIeee754<TColumn>
        where T : IFloatingPointIeee754<T>
    {
        var getter = cursor.GetGetter<TColumn>(column);
        var value = TColumn.Zero;
        return () =>
        {
            getter(ref value);
            return TColumn.IsFinite(value) ? T.CreateTruncating(value) : throw new ArgumentException(label.Missing(cursor.Position), parameter);
        };
    }
}
