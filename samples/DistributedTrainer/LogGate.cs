namespace FunctionalBackprop.Samples;

/// <summary>Closed while a host starts, open once it has (see <see cref="Cluster.Logs"/>).</summary>
internal sealed class LogGate
{
    public bool Open { get; set; }
}
