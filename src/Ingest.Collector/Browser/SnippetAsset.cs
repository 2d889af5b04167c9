using System.IO.Compression;
using System.Security.Cryptography;

namespace Ingest.Collector.Browser;

/// <summary>The built <c>ingest.js</c> (embedded at build time), with its ETag and its gzip and Brotli encodings, compressed once at start.</summary>
public sealed class SnippetAsset
{
    public const string ResourceName = "Ingest.Collector.Browser.ingest.js";

    public SnippetAsset()
    {
        using var stream = typeof(SnippetAsset).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The collector was built without {ResourceName} (src/Ingest.Snippet did not build).");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        Raw = buffer.ToArray();
        Version = Convert.ToHexStringLower(SHA256.HashData(Raw).AsSpan(0, 8));
        ETag = $"\"{Version}\"";
        Gzip = Compress(Raw, static s => new GZipStream(s, CompressionLevel.SmallestSize, leaveOpen: true));
        Brotli = Compress(Raw, static s => new BrotliStream(s, CompressionLevel.SmallestSize, leaveOpen: true));
    }

    public byte[] Raw { get; }
    public byte[] Gzip { get; }
    public byte[] Brotli { get; }

    /// <summary>Content hash: the ETag, and the <c>?v=</c> of a versioned URL that may be cached for a year.</summary>
    public string Version { get; }

    public string ETag { get; }

    private static byte[] Compress(byte[] data, Func<Stream, Stream> encoder)
    {
        using var output = new MemoryStream();
        using (var compressor = encoder(output))
        {
            compressor.Write(data);
        }

        return output.ToArray();
    }
}
