using System;
using System.IO;
using System.Linq;
using FunctionalBackprop.Onnx;
using Google.Protobuf;
using Proto = global::Onnx;

namespace FunctionalBackprop.MLNet.Scoring;

/// <summary>
/// A network as the ONNX model that ML.NET's OnnxTransformer runs: the file
/// <see cref="OnnxModel.Save{T}(NeuralNetwork{T}, Stream, OnnxExportOptions?)"/> writes (the scaler
/// included), with its input and output renamed to the pipeline's columns, since OnnxTransformer
/// reads and writes the columns named as the graph's inputs and outputs.
/// </summary>
internal static class OnnxGraph
{
    /// <summary>
    /// The model's bytes: input <paramref name="input"/>, the network's output as
    /// <paramref name="output"/> and, when <paramref name="logit"/> is given, the output layer's
    /// weighted input z (before its activation) as a second output of that name.
    /// </summary>
    public static byte[] Export(NeuralNetwork<float> network, string input, string output, string? logit = null)
    {
        using var stream = new MemoryStream();
        OnnxModel.Save(network, stream);
        var model = Proto.ModelProto.Parser.ParseFrom(stream.ToArray());
        var graph = model.Graph;
        if (logit is not null)
        {
            // The output layer's activation node reads z and writes the graph's output.
            var activation = graph.Node.Single(node => node.Output.Contains(OnnxFormat.OutputName));
            var z = activation.Input[0];
            var zInfo = graph.Output.Single().Clone();
            zInfo.Name = z;
            graph.Output.Add(zInfo);
            Rename(graph, z, logit);
        }

        Rename(graph, OnnxFormat.InputName, input);
        Rename(graph, OnnxFormat.OutputName, output);
        return model.ToByteArray();
    }

    /// <summary>Renames a value of the graph wherever it appears: as an input, an output, or a node's input or output.</summary>
    private static void Rename(Proto.GraphProto graph, string from, string to)
    {
        foreach (var info in graph.Input.Concat(graph.Output).Where(info => info.Name == from))
        {
            info.Name = to;
        }

        foreach (var node in graph.Node)
        {
            Rename(node.Input, from, to);
            Rename(node.Output, from, to);
        }
    }

    private static void Rename(Google.Protobuf.Collections.RepeatedField<string> names, string from, string to)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (names[i] == from)
            {
                names[i] = to;
            }
        }
    }
}
