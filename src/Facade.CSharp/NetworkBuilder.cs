using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Numerics;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>
/// Describes a network layer by layer, then builds it with parameters drawn from a seed. Made by
/// <see cref="NeuralNetwork.Create(int)"/>, the one way to start a network:
/// <code>
/// var network = NeuralNetwork.Create(784)
///     .Dense(30, Activation.Sigmoid)
///     .Dense(10, Activation.Softmax)
///     .Build(seed: 42);
/// </code>
/// Immutable: each call returns a new builder, so a builder can be shared and extended safely.
/// </summary>
public sealed class NetworkBuilder
{
    private readonly ImmutableList<(int Units, Activation Activation, Initializer? Initializer)> layers;

    /// <summary>A builder for networks whose inputs have <paramref name="inputWidth"/> values (<see cref="NeuralNetwork.Create(int)"/>).</summary>
    /// <param name="inputWidth">Checked (at least 1) when the network is built.</param>
    internal NetworkBuilder(int inputWidth)
        : this(inputWidth, ImmutableList<(int, Activation, Initializer?)>.Empty)
    {
    }

    private NetworkBuilder(int inputWidth, ImmutableList<(int, Activation, Initializer?)> layers)
    {
        InputWidth = inputWidth;
        this.layers = layers;
    }

    /// <summary>The width of an input example.</summary>
    public int InputWidth { get; }

    /// <summary>The number of layers added so far.</summary>
    public int LayerCount => layers.Count;

    /// <summary>Adds a fully connected layer.</summary>
    /// <param name="units">The layer's width (at least 1, checked at <see cref="Build(long)"/>).</param>
    /// <param name="activation">σ for the layer.</param>
    /// <param name="initializer">How its first weights are drawn; by default He (normal) for ReLU and leaky ReLU, Xavier (normal) otherwise.</param>
    /// <returns>A new builder with the layer added.</returns>
    public NetworkBuilder Dense(int units, Activation activation, Initializer? initializer = null)
    {
        ArgumentNullException.ThrowIfNull(activation);
        if (initializer is { } chosen && !Enum.IsDefined(chosen))
        {
            throw new ArgumentOutOfRangeException(nameof(initializer), chosen, $"{chosen} is not an initializer.");
        }

        return new NetworkBuilder(InputWidth, layers.Add((units, activation, initializer)));
    }

    /// <summary>Builds a float64 network with parameters drawn from the seed (the same seed gives the same bits on every machine).</summary>
    /// <param name="seed">Any number.</param>
    /// <exception cref="ArgumentException">A layer is invalid; the message names the layer and says why.</exception>
    public NeuralNetwork<double> Build(long seed) => Build<double>(seed);

    /// <summary>Builds a network of real type <typeparamref name="T"/> (double or float) from the seed.</summary>
    /// <typeparam name="T">double or float.</typeparam>
    /// <param name="seed">Any number.</param>
    /// <exception cref="ArgumentException">A layer is invalid; the message names the layer and says why.</exception>
    public NeuralNetwork<T> Build<T>(long seed)
        where T : IFloatingPointIeee754<T>
    {
        NeuralNetwork.CheckRealType<T>();
        if (InputWidth < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(InputWidth), InputWidth, $"The input width must be at least 1, got {InputWidth}.");
        }

        if (layers.Count == 0)
        {
            throw new ArgumentException("The network has no layers: add at least one with Dense(…).");
        }

        var specs = new List<Core.LayerSpec>();
        for (var i = 0; i < layers.Count; i++)
        {
            var (units, activation, initializer) = layers[i];
            if (units < 1)
            {
                throw new ArgumentException($"Layer {i + 1} has {units} units; every layer needs at least one.");
            }

            try
            {
                Core.ActivationModule.validate(activation.ToCore());
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Layer {i + 1}: {e.Message}", e);
            }

            var init = initializer?.ToCore() ?? Core.InitializerModule.forActivation(activation.ToCore());
            specs.Add(new Core.LayerSpec(units, activation.ToCore(), init));
        }

        return new NeuralNetwork<T>(Core.Network.init<T>(unchecked((ulong)seed), InputWidth, specs));
    }

    /// <summary>"784-30-10 builder".</summary>
    public override string ToString() => $"{string.Join("-", layers.Select(l => l.Units).Prepend(InputWidth))} builder";
}
