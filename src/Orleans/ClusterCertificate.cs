using System;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;
using Orleans.Hosting;

namespace FunctionalBackprop.Orleans;

/// <summary>
/// Mutual TLS for a training cluster: every silo and every coordinator holds the same
/// certificate (with its private key), presents it on every connection and accepts a peer only
/// when the peer presents that same certificate. A process without it cannot connect; nothing
/// crosses the wire in clear text.
/// </summary>
public static class ClusterCertificate
{
    /// <summary>
    /// Makes this silo speak TLS only, to silos and clients that present <paramref name="certificate"/>.
    /// Give every silo and every coordinator of the cluster the same one.
    /// </summary>
    /// <param name="builder">The silo's builder.</param>
    /// <param name="certificate">The cluster's certificate, with its private key.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentException">The certificate has no private key, or may not authenticate clients.</exception>
    public static ISiloBuilder UseClusterCertificate(this ISiloBuilder builder, X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseTls(Checked(certificate), options => Pin(options, certificate));
    }

    /// <summary>Makes this client (a coordinator) speak TLS only, to silos that present <paramref name="certificate"/>, and present it itself.</summary>
    /// <param name="builder">The client's builder.</param>
    /// <param name="certificate">The cluster's certificate, with its private key.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentException">The certificate has no private key, or may not authenticate clients.</exception>
    public static IClientBuilder UseClusterCertificate(this IClientBuilder builder, X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseTls(Checked(certificate), options => Pin(options, certificate));
    }

    private static X509Certificate2 Checked(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException($"The cluster certificate {certificate.Subject} has no private key: give the PFX (PKCS #12) file that holds it.", nameof(certificate));
        }

        return certificate;
    }

    /// <summary>Both directions require a certificate, and the only one accepted is the cluster's own (compared by its SHA-256 hash), whatever chain or name it has.</summary>
    private static void Pin(TlsOptions options, X509Certificate2 certificate)
    {
        var expected = certificate.GetCertHash(HashAlgorithmName.SHA256);
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.CheckCertificateRevocation = false;
        options.RemoteCertificateValidation = (peer, _, _) => CryptographicOperations.FixedTimeEquals(peer.GetCertHash(HashAlgorithmName.SHA256), expected);
        options.OnAuthenticateAsClient = (_, client) => client.TargetHost = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
    }
}
