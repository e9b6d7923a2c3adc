using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace FunctionalBackprop.MLNet.Data;

/// <summary>How the messages write columns, types and values.</summary>
internal static class ColumnNames
{
    /// <summary>The visible columns of a schema, quoted: "'Label', 'Features'".</summary>
    public static string List(DataViewSchema schema)
    {
        var names = schema.Where(c => !c.IsHidden).Select(c => $"'{c.Name}'").ToList();
        return names.Count == 0 ? "none" : string.Join(", ", names);
    }

    /// <summary>A schema shape's column as ML.NET writes its type: "Single", "Vector&lt;Single&gt; of known size", "Key&lt;UInt32&gt;".</summary>
    public static string Describe(SchemaShape.Column column)
    {
        var item = column.IsKey ? $"Key<{column.ItemType}>" : $"{column.ItemType}";
        return column.Kind switch
        {
            SchemaShape.Column.VectorKind.Scalar => item,
            SchemaShape.Column.VectorKind.Vector => $"Vector<{item}> of known size",
            _ => $"Vector<{item}> of variable size",
        };
    }

    /// <summary>The column of the shape named <paramref name="name"/>, if there is one (the last, as ML.NET reads a name).</summary>
    public static bool TryFind(SchemaShape shape, string name, out SchemaShape.Column column)
    {
        for (var i = shape.Count - 1; i >= 0; i--)
        {
            if (shape[i].Name == name)
            {
                column = shape[i];
                return true;
            }
        }

        column = default;
        return false;
    }

    /// <summary>The columns of a shape, quoted.</summary>
    public static string List(SchemaShape shape) => shape.Count == 0 ? "none" : string.Join(", ", shape.Select(c => $"'{c.Name}'"));

    /// <summary>NaN, ∞, −∞, or a finite value beyond the network's real type.</summary>
    public static string Value(double value) =>
        double.IsNaN(value) ? "NaN (a missing value)" : double.IsFinite(value) ? $"{value:R}, beyond the range of the network's real type," : value > 0 ? "∞" : "−∞";
}
