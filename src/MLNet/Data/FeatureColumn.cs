using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FunctionalBackprop.MLNet.Data;

/// <summary>
/// A data view's feature column as the network takes it: a vector of Single or Double of known
/// size, the same width in every row (as <c>Concatenate</c> makes it). Every error names the
/// column as ML.NET knows it and says what to do.
/// </summary>
internal sealed record FeatureColumn(string Name, int Width, bool IsDouble)
{
    /// <summary>The column named <paramref name="name"/> of the schema, checked.</summary>
    /// <param name="schema">The data view's schema.</param>
    /// <param name="name">The feature column's name.</param>
    /// <param name="parameter">The caller's parameter that holds the data view, for the exception.</param>
    /// <exception cref="ArgumentException">No such column, or one of another type; the message names it.</exception>
    public static FeatureColumn Of(DataViewSchema schema, string name, string parameter)
    {
        var column = schema.GetColumnOrNull(name) ?? throw new ArgumentException(
            $"The data view has no feature column '{name}' (featureColumnName). Its columns: {ColumnNames.List(schema)}.", parameter);
        if (column.Type is not VectorDataViewType vector || (vector.ItemType != NumberDataViewType.Single && vector.ItemType != NumberDataViewType.Double))
        {
            throw new ArgumentException(
                $"The feature column '{name}' is {column.Type}; the network takes a vector of Single or Double of known size. Concatenate the numeric columns into one (mlContext.Transforms.Concatenate(\"{name}\", …)) and convert others first.",
                parameter);
        }

        if (!vector.IsKnownSize)
        {
            throw new ArgumentException(
                $"The feature column '{name}' is {column.Type}, a vector of variable size; the network takes the same number of features in every row. Give it a known size (Concatenate of fixed columns, or a text loader column with a range of indices).",
                parameter);
        }

        return new FeatureColumn(name, vector.Size, vector.ItemType == NumberDataViewType.Double);
    }

    /// <summary>The column named <paramref name="name"/> of a schema shape (before training), checked as <see cref="Of(DataViewSchema, string, string)"/> checks a schema.</summary>
    /// <param name="shape">The shape of the data the trainer will be given.</param>
    /// <param name="name">The feature column's name.</param>
    /// <param name="parameter">The caller's parameter, for the exception.</param>
    public static void Check(SchemaShape shape, string name, string parameter)
    {
        if (!ColumnNames.TryFind(shape, name, out var column))
        {
            throw new ArgumentException($"The data has no feature column '{name}' (featureColumnName). Its columns: {ColumnNames.List(shape)}.", parameter);
        }

        var numeric = column.ItemType == NumberDataViewType.Single || column.ItemType == NumberDataViewType.Double;
        if (!numeric || column.IsKey || column.Kind == SchemaShape.Column.VectorKind.Scalar)
        {
            throw new ArgumentException(
                $"The feature column '{name}' is {ColumnNames.Describe(column)}; the network takes a vector of Single or Double of known size. Concatenate the numeric columns into one (mlContext.Transforms.Concatenate(\"{name}\", …)).",
                parameter);
        }

        if (column.Kind == SchemaShape.Column.VectorKind.VariableVector)
        {
            throw new ArgumentException($"The feature column '{name}' is a vector of variable size; the network takes the same number of features in every row.", parameter);
        }
    }

    /// <summary>The message for a value the network cannot train on, naming the column, the row and the slot.</summary>
    public string NotFinite(double value, long row, int slot) =>
        $"The feature column '{Name}' holds {ColumnNames.Value(value)} at row {row}, slot {slot} (both counted from 0): the network takes finite values only. Replace missing values first (mlContext.Transforms.ReplaceMissingValues(\"{Name}\")), or filter such rows out.";
}
