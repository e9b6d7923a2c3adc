using System;
using System.IO;
using System.Numerics;
using Microsoft.FSharp.Core;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

// Saving and loading, in the format of docs/model-format.md.
public sealed partial class NeuralNetwork<T>
{
    /// <summary>
    /// Saves the network (architecture, activations, every weight bit for bit, and its scaler and
    /// target scaler if it has them) to a file. The file is written under a temporary name and then
    /// renamed over <paramref name="path"/>, so a crash leaves either the old file or the new one,
    /// never half of one. A network of dense layers without scalers is written in format 1, byte
    /// for byte as before scalers existed; one with a scaler in format 2.
    /// </summary>
    /// <param name="path">The file to create or replace.</param>
    public void Save(string path) => ModelStorage.SaveAtomically(path, stream => Save(stream));

    /// <summary>Writes the network to a stream in the model format.</summary>
    /// <param name="stream">A writable stream; left open.</param>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Core.ModelFile.write(stream, Contents(null));
    }

    /// <summary>Loads a network saved by <see cref="Save(string)"/> (or by <see cref="TrainingCheckpoint{T}.Save(string)"/>), with its scalers.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="InvalidDataException">The file is truncated, corrupt, from a newer version, or holds the other real type.</exception>
    public static NeuralNetwork<T> Load(string path) => ModelStorage.Read(path, Load);

    /// <summary>Reads a network in the model format from a stream.</summary>
    /// <param name="stream">A readable stream; read to its end and left open.</param>
    /// <exception cref="InvalidDataException">The content is truncated, corrupt, from a newer version, or holds the other real type.</exception>
    public static NeuralNetwork<T> Load(Stream stream) => FromContents(Read(stream));

    /// <summary>The file's contents: this network, its scalers, and a training state if given.</summary>
    internal Core.ModelContents<T> Contents(Core.TrainingState<T>? training) =>
        new(CoreNetwork, CoreConvert.Option(Scaler?.CoreScaler), CoreConvert.Option(TargetScaler?.CoreScaler), CoreConvert.Option(training));

    /// <summary>Reads a model file's contents for real type <typeparamref name="T"/>.</summary>
    internal static Core.ModelContents<T> Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        NeuralNetwork.CheckRealType<T>();
        return Core.ModelFile.read<T>(stream);
    }

    /// <summary>The network (with its scalers) of a model file's contents.</summary>
    internal static NeuralNetwork<T> FromContents(Core.ModelContents<T> contents) =>
        new(contents.Network, contents.Scaler is { } scaler ? new Scaler(scaler.Value) : null, contents.TargetScaler is { } target ? new Scaler(target.Value) : null);
}
