namespace FunctionalBackprop.MLNet.Scoring;

/// <summary>
/// The columns the trained transformer writes: ML.NET's own names for what its evaluators read,
/// and the columns it uses on the way, which it drops again (their names are this library's, so
/// that no column of the caller's is hidden or dropped).
/// </summary>
internal static class ScoreColumns
{
    /// <summary>The score: class probabilities (multiclass), the logit (binary), the prediction (regression).</summary>
    public const string Score = "Score";

    /// <summary>The predicted class: a key (multiclass) or a Boolean (binary).</summary>
    public const string PredictedLabel = "PredictedLabel";

    /// <summary>The probability of true (binary).</summary>
    public const string Probability = "Probability";

    /// <summary>Double features converted to Single, the network's input.</summary>
    public const string Features = "FunctionalBackprop.Features";

    /// <summary>The network's output, as the ONNX model writes it.</summary>
    public const string Output = "FunctionalBackprop.Output";

    /// <summary>The output layer's weighted input z (binary).</summary>
    public const string Logit = "FunctionalBackprop.Logit";

    /// <summary>The predicted class as an index from 0 (multiclass), before it becomes a key.</summary>
    public const string ClassIndex = "FunctionalBackprop.ClassIndex";
}
