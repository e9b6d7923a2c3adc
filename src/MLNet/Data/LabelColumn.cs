using System;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FunctionalBackprop.MLNet.Data;

/// <summary>What a label column holds, which decides the targets it becomes.</summary>
internal enum LabelKind
{
    /// <summary>A key (as MapValueToKey makes it) of 2 or more classes: one-hot targets.</summary>
    Key,

    /// <summary>Boolean: one 0/1 target.</summary>
    Boolean,

    /// <summary>Single or Double: the value itself as one target.</summary>
    Number,
}

/// <summary>
/// A data view's label column: a key of UInt32 (as MapValueToKey makes it) with its class count, a
/// Boolean, or a Single or Double target. Every error names the column as ML.NET knows it.
/// </summary>
internal sealed record LabelColumn(string Name, LabelKind Kind, DataViewType Type)
{
    /// <summary>The number of classes of a key label; 0 for the other kinds.</summary>
    public int ClassCount => Type is KeyDataViewType key ? (int)key.Count : 0;

    /// <summary>The column named <paramref name="name"/> of the schema, checked.</summary>
    /// <param name="schema">The data view's schema.</param>
    /// <param name="name">The label column's name.</param>
    /// <param name="parameter">The caller's parameter that holds the data view, for the exception.</param>
    /// <exception cref="ArgumentException">No such column, or one of a type no target is made of; the message names it.</exception>
    public static LabelColumn Of(DataViewSchema schema, string name, string parameter)
    {
        var column = schema.GetColumnOrNull(name) ?? throw new ArgumentException(
            $"The data view has no label column '{name}' (labelColumnName). Its columns: {ColumnNames.List(schema)}.", parameter);
        switch (column.Type)
        {
            case KeyDataViewType key when key.RawType == typeof(uint) && key.Count >= 2 && key.Count <= int.MaxValue:
                return new LabelColumn(name, LabelKind.Key, key);
            case KeyDataViewType key:
                throw new ArgumentException(
                    $"The label column '{name}' is {key}; a class label is a key of UInt32 with 2 or more values, as mlContext.Transforms.Conversion.MapValueToKey(\"{name}\") makes it from data with at least two classes.",
                    parameter);
            case BooleanDataViewType:
                return new LabelColumn(name, LabelKind.Boolean, column.Type);
            case NumberDataViewType number when number == NumberDataViewType.Single || number == NumberDataViewType.Double:
                return new LabelColumn(name, LabelKind.Number, column.Type);
            default:
                throw new ArgumentException(
                    $"The label column '{name}' is {column.Type}; a label is a key (class labels, from mlContext.Transforms.Conversion.MapValueToKey(\"{name}\")), a Boolean (yes/no) or a Single or Double (a number to predict).",
                    parameter);
        }
    }

    /// <summary>The message for a row whose label cannot be a target, naming the column and the row.</summary>
    public string Missing(long row) => Kind == LabelKind.Key
        ? $"The label column '{Name}' holds a missing key at row {row} (counted from 0): a value that its MapValueToKey did not know. Fit MapValueToKey on data with every class, or filter such rows out."
        : $"The label column '{Name}' holds NaN (a missing value) or an infinity at row {row} (counted from 0): the network trains on finite targets only. Filter such rows out (mlContext.Data.FilterRowsByMissingValues(data, \"{Name}\")).";
}
