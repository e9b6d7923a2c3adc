using System;
using System.Linq;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FunctionalBackprop.MLNet.Scoring;

/// <summary>
/// The map from a class index (0, 1, …) to the training label's key (1, 2, …), with the label's key
/// values (its classes' names) on the key, so that PredictedLabel is the same key as the label:
/// <c>MapKeyToValue</c> gives the class back. It is an ML.NET value mapping, whose lookup table ML.NET
/// saves in the model file with those key values.
/// </summary>
internal static class ClassKeys
{
    // Not "Key" and "Value": the value mapping copies its lookup table into columns of those names.
    private const string IndexColumn = "ClassIndex";
    private const string KeyColumn = "ClassKey";

    /// <summary>The estimator that maps <see cref="ScoreColumns.ClassIndex"/> to PredictedLabel, a key like the label.</summary>
    /// <param name="ml">The context whose catalog makes it.</param>
    /// <param name="classes">The number of classes, the label key's count.</param>
    /// <param name="keyValues">The label's key values to put on the key, or null when it has none.</param>
    public static IEstimator<ITransformer> Mapping(MLContext ml, int classes, KeyValues? keyValues)
    {
        var definition = SchemaDefinition.Create(typeof(Row));
        definition[KeyColumn].ColumnType = new KeyDataViewType(typeof(uint), classes);
        keyValues?.AddTo(definition[KeyColumn]);

        // A key field of a row object counts from 0; the data view adds 1, as keys count from 1.
        var table = ml.Data.LoadFromEnumerable(Enumerable.Range(0, classes).Select(k => new Row { ClassIndex = (uint)k, ClassKey = (uint)k }).ToList(), definition);
        return ml.Transforms.Conversion.MapValue(ScoreColumns.PredictedLabel, table, table.Schema[IndexColumn], table.Schema[KeyColumn], ScoreColumns.ClassIndex);
    }

    /// <summary>A row of the lookup table.</summary>
    private sealed class Row
    {
        public uint ClassIndex { get; set; }

        public uint ClassKey { get; set; }
    }
}

/// <summary>A label's key values (its classes' names, of any type ML.NET's keys take), to copy onto another key.</summary>
internal sealed class KeyValues
{
    private static readonly MethodInfo AddGeneric = typeof(KeyValues).GetMethod(nameof(Add), BindingFlags.NonPublic | BindingFlags.Static)!;
    private readonly object values;
    private readonly VectorDataViewType type;

    private KeyValues(object values, VectorDataViewType type)
    {
        this.values = values;
        this.type = type;
    }

    /// <summary>The key values of a column, or null when it has none.</summary>
    public static KeyValues? Of(DataViewSchema.Column column)
    {
        var annotation = column.Annotations.Schema.GetColumnOrNull(AnnotationKinds.KeyValues);
        if (annotation?.Type is not VectorDataViewType type)
        {
            return null;
        }

        var read = typeof(KeyValues).GetMethod(nameof(Read), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type.ItemType.RawType);
        return new KeyValues(read.Invoke(null, new object[] { column })!, type);
    }

    /// <summary>
    /// Placeholder key values for two classes, of the item type a schema shape's KeyValues
    /// annotation has (null when the label has none): enough for the output's shape before training.
    /// </summary>
    public static KeyValues? Placeholder(SchemaShape.Column label)
    {
        var annotation = label.Annotations?.FirstOrDefault(a => a.Name == AnnotationKinds.KeyValues);
        if (annotation is not { ItemType: PrimitiveDataViewType item })
        {
            return null;
        }

        var make = typeof(KeyValues).GetMethod(nameof(Defaults), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(item.RawType);
        return new KeyValues(make.Invoke(null, new object[] { 2 })!, new VectorDataViewType(item, 2));
    }

    /// <summary>Puts the values on a column of a schema definition, as its KeyValues annotation.</summary>
    public void AddTo(SchemaDefinition.Column column) =>
        AddGeneric.MakeGenericMethod(type.ItemType.RawType).Invoke(null, new[] { column, values, type });

    private static VBuffer<T> Read<T>(DataViewSchema.Column column)
    {
        var buffer = default(VBuffer<T>);
        column.GetKeyValues(ref buffer);
        return buffer;
    }

    private static VBuffer<T> Defaults<T>(int count) => new(count, new T[count]);

    private static void Add<T>(SchemaDefinition.Column column, VBuffer<T> values, VectorDataViewType type) =>
        column.AddAnnotation(AnnotationKinds.KeyValues, values, type);
}

/// <summary>ML.NET's names of annotation kinds (its own constants are internal).</summary>
internal static class AnnotationKinds
{
    /// <summary>The names of a key's values.</summary>
    public const string KeyValues = "KeyValues";
}
