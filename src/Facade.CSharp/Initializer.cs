namespace FunctionalBackprop;

/// <summary>How a layer's first weights and biases are drawn (from the seed given to <see cref="NetworkBuilder.Build(long)"/>).</summary>
public enum Initializer
{
    /// <summary>Weights and biases 0.</summary>
    Zeros,

    /// <summary>Weights and biases uniform on ±1/(2·fan-in), as in the lecture.</summary>
    SmallUniform,

    /// <summary>Weights and biases N(0, 1), as in Nielsen's network.py.</summary>
    StandardNormal,

    /// <summary>Weights N(0, 1/fan-in) and biases N(0, 1), as in Nielsen's network2.py.</summary>
    ScaledNormal,

    /// <summary>Glorot and Bengio's uniform weights on ±√(6/(fan-in + fan-out)), biases 0.</summary>
    XavierUniform,

    /// <summary>Glorot and Bengio's normal weights N(0, 2/(fan-in + fan-out)), biases 0.</summary>
    XavierNormal,

    /// <summary>He et al.'s normal weights N(0, 2/fan-in), biases 0: for ReLU layers.</summary>
    HeNormal,
}
