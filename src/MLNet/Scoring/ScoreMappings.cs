using System;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace FunctionalBackprop.MLNet.Scoring;

// ONNX Runtime's outputs reach ML.NET as vectors (the tensors [1, n] of a row); ML.NET's evaluators
// take a scalar Score, Probability and PredictedLabel. These mappings take them out. They are
// ML.NET custom mappings with a contract name: ML.NET saves the name and this assembly's, and on
// loading finds this assembly and its factory by them, with no registration by the caller.

/// <summary>Regression: the network's one output as the Score.</summary>
[CustomMappingFactoryAttribute(Contract)]
internal sealed class RegressionScore : CustomMappingFactory<RegressionScore.Input, RegressionScore.Result>
{
    /// <summary>The name ML.NET saves, and finds this factory by when loading.</summary>
    public const string Contract = "FunctionalBackprop.MLNet.RegressionScore";

    /// <summary>Score = y₀.</summary>
    public static void Map(Input input, Result result) => result.Score = input.Output[0];

    /// <inheritdoc/>
    public override Action<Input, Result> GetMapping() => Map;

    /// <summary>The columns read.</summary>
    internal sealed class Input
    {
        [ColumnName(ScoreColumns.Output)]
        public float[] Output { get; set; } = Array.Empty<float>();
    }

    /// <summary>The columns written.</summary>
    internal sealed class Result
    {
        [ColumnName(ScoreColumns.Score)]
        public float Score { get; set; }
    }
}

/// <summary>
/// Binary classification: the sigmoid output as the Probability, its z as the Score (ML.NET's raw
/// score, whose sign its threshold of 0 reads), and PredictedLabel as the network classifies:
/// true when the probability is at least ½.
/// </summary>
[CustomMappingFactoryAttribute(Contract)]
internal sealed class BinaryScore : CustomMappingFactory<BinaryScore.Input, BinaryScore.Result>
{
    /// <summary>The name ML.NET saves, and finds this factory by when loading.</summary>
    public const string Contract = "FunctionalBackprop.MLNet.BinaryScore";

    /// <summary>Score = z, Probability = σ(z), PredictedLabel = σ(z) ≥ ½.</summary>
    public static void Map(Input input, Result result)
    {
        result.Score = input.Logit[0];
        result.Probability = input.Probability[0];
        result.PredictedLabel = input.Probability[0] >= 0.5f;
    }

    /// <inheritdoc/>
    public override Action<Input, Result> GetMapping() => Map;

    /// <summary>The columns read.</summary>
    internal sealed class Input
    {
        [ColumnName(ScoreColumns.Output)]
        public float[] Probability { get; set; } = Array.Empty<float>();

        [ColumnName(ScoreColumns.Logit)]
        public float[] Logit { get; set; } = Array.Empty<float>();
    }

    /// <summary>The columns written.</summary>
    internal sealed class Result
    {
        [ColumnName(ScoreColumns.Score)]
        public float Score { get; set; }

        [ColumnName(ScoreColumns.Probability)]
        public float Probability { get; set; }

        [ColumnName(ScoreColumns.PredictedLabel)]
        public bool PredictedLabel { get; set; }
    }
}

/// <summary>
/// Multiclass classification: the index of the largest score, the first of equals, as the
/// network classifies; <see cref="ClassKeys"/> then makes it the label's key.
/// </summary>
[CustomMappingFactoryAttribute(Contract)]
internal sealed class ClassIndex : CustomMappingFactory<ClassIndex.Input, ClassIndex.Result>
{
    /// <summary>The name ML.NET saves, and finds this factory by when loading.</summary>
    public const string Contract = "FunctionalBackprop.MLNet.ClassIndex";

    /// <summary>argmaxₖ Scoreₖ.</summary>
    public static void Map(Input input, Result result)
    {
        var scores = input.Score;
        var best = 0;
        for (var k = 1; k < scores.Length; k++)
        {
            if (scores[k] > scores[best])
            {
                best = k;
            }
        }

        result.Index = (uint)best;
    }

    /// <inheritdoc/>
    public override Action<Input, Result> GetMapping() => Map;

    /// <summary>The columns read.</summary>
    internal sealed class Input
    {
        [ColumnName(ScoreColumns.Score)]
        public float[] Score { get; set; } = Array.Empty<float>();
    }

    /// <summary>The columns written.</summary>
    internal sealed class Result
    {
        [ColumnName(ScoreColumns.ClassIndex)]
        public uint Index { get; set; }
    }
}
