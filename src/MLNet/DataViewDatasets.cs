using System;
using System.Numerics;
using FunctionalBackprop.MLNet.Data;
using Microsoft.ML;

namespace FunctionalBackprop.MLNet;

/// <summary>ML.NET data views as FunctionalBackprop data sets.</summary>
public static class DataViewDatasets
{
    /// <summary>
    /// The rows of an ML.NET data view as examples: each row's feature column (a vector of Single or
    /// Double of known size, as <c>Concatenate</c> makes it) becomes an input, and its label column a
    /// target, by the label's type. A key (as <c>MapValueToKey</c> makes it) of K values becomes a
    /// one-hot target of K entries, key k at entry k − 1 (<see cref="Dataset{T}.GetLabels"/> gives the
    /// classes back, 0-based in key order); a Boolean becomes one 0/1 target; a Single or Double
    /// becomes one target, itself. The rows are read once, through a cursor over the two columns only.
    /// </summary>
    /// <typeparam name="T">The data set's real type, float or double; Double features are rounded to float for float.</typeparam>
    /// <param name="data">The data view, after the transforms that make its feature and label columns.</param>
    /// <param name="featureColumnName">The feature column ("Features" by default, as in ML.NET's trainers).</param>
    /// <param name="labelColumnName">The label column ("Label" by default).</param>
    /// <returns>One example per row, in the data view's order.</returns>
    /// <exception cref="ArgumentException">
    /// A column is missing or of another type, the feature vector is of variable size, a row holds NaN
    /// or an infinity, a key label is missing, or the data view has no rows. The message names the
    /// column (and the row, counted from 0) as ML.NET knows it.
    /// </exception>
    public static Dataset<T> ToDataset<T>(this IDataView data, string featureColumnName = "Features", string labelColumnName = "Label")
        where T : IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentException.ThrowIfNullOrEmpty(featureColumnName);
        ArgumentException.ThrowIfNullOrEmpty(labelColumnName);
        var features = FeatureColumn.Of(data.Schema, featureColumnName, nameof(data));
        var label = LabelColumn.Of(data.Schema, labelColumnName, nameof(data));
        return DataViewReader.Read<T>(data, features, label, nameof(data));
    }
}
