using System;
using System.IO;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FunctionalBackprop.Samples;

/// <summary>
/// The cluster's certificate for mutual TLS: made once (<c>certificate PATH</c>) and copied to
/// every machine of the cluster, then given to every silo and coordinator with --certificate.
/// </summary>
internal static class ClusterCertificates
{
    /// <summary>The variable that holds the PFX file's password, when it has one.</summary>
    public const string PasswordVariable = "FUNCTIONALBACKPROP_CERTIFICATE_PASSWORD";

    /// <summary>
    /// A new self-signed certificate (ECDSA P-256, for server and client authentication, valid for
    /// <paramref name="days"/> days) with its private key, written to <paramref name="path"/> as a
    /// PFX file that only its owner may read. An existing file is never overwritten.
    /// </summary>
    public static void Create(string path, int days)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=functionalbackprop-cluster", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2") }, false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(days));
        var bytes = certificate.Export(X509ContentType.Pfx, Environment.GetEnvironmentVariable(PasswordVariable));
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var file = new FileStream(path, options);
        file.Write(bytes);
    }

    /// <summary>The certificate and its private key from a PFX file (its password, if any, in <see cref="PasswordVariable"/>).</summary>
    public static X509Certificate2 Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"--certificate: {path} does not exist (the certificate command makes one).", path);
        }

        try
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, Environment.GetEnvironmentVariable(PasswordVariable));
        }
        catch (CryptographicException e)
        {
            throw new InvalidDataException($"--certificate: {path} is not a PFX file this program can read ({e.Message.TrimEnd('.')}); a password goes in {PasswordVariable}.", e);
        }
    }
}
