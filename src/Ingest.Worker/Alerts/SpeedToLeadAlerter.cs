using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ingest.Storage.Alerts;
using Microsoft.Extensions.Options;

namespace Ingest.Worker.Alerts;

/// <summary>Speed-to-lead alert settings (<c>Alerts:SpeedToLead</c>); without a <see cref="Url"/> no alert is sent.</summary>
public sealed class SpeedToLeadAlertOptions
{
    public const string Section = "Alerts:SpeedToLead";

    /// <summary>Where alerts are POSTed.</summary>
    public string? Url { get; set; }

    /// <summary>HMAC-SHA256 key of the <c>X-Ingest-Signature</c> header.</summary>
    public string? Secret { get; set; }

    /// <summary>Minutes a new lead may wait for its first response.</summary>
    [Range(1, 10_080)]
    public int Minutes { get; set; } = 5;

    /// <summary>Only leads created this recently are "new" (imported history never alerts).</summary>
    [Range(1, 720)]
    public int LookBackHours { get; set; } = 24;

    /// <summary>How often due alerts are looked for.</summary>
    [Range(50, 600_000)]
    public int PollMs { get; set; } = 15_000;

    /// <summary>Attempts per alert; the delay after attempt n is <see cref="RetryBaseMs"/> × 2^(n−1).</summary>
    [Range(1, 50)]
    public int MaxAttempts { get; set; } = 8;

    [Range(10, 3_600_000)]
    public int RetryBaseMs { get; set; } = 5_000;
}

/// <summary>Source-generated JSON of the alert body (snake_case, nulls omitted).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SpeedToLeadAlert))]
public sealed partial class AlertJsonContext : JsonSerializerContext;

/// <summary>
/// Sends the alert nobody else sends: a new lead without a response after <see cref="SpeedToLeadAlertOptions.Minutes"/>
/// is POSTed once to <see cref="SpeedToLeadAlertOptions.Url"/> as signed JSON (<c>X-Ingest-Signature: sha256=&lt;hex
/// HMAC-SHA256(secret, body)&gt;</c>, <c>X-Ingest-Event-Id</c>), retried with exponential back-off until a 2xx.
/// </summary>
public sealed partial class SpeedToLeadAlerter(
    IOptions<SpeedToLeadAlertOptions> options, SpeedToLeadAlerts alerts, IHttpClientFactory http, TimeProvider time, ILogger<SpeedToLeadAlerter> logger) : BackgroundService
{
    public const string HttpClientName = "speed-to-lead";
    private readonly SpeedToLeadAlertOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (string.IsNullOrWhiteSpace(_options.Url))
        {
            return;
        }

        var limit = TimeSpan.FromMinutes(_options.Minutes);
        var client = http.CreateClient(HttpClientName);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(_options.PollMs), time);
        do
        {
            try
            {
                var now = time.GetUtcNow();
                await alerts.ClaimAsync(now, limit, TimeSpan.FromHours(_options.LookBackHours), stoppingToken);
                var (delivered, failed) = await alerts.DeliverDueAsync(now, limit, _options.MaxAttempts, 100,
                    attempt => TimeSpan.FromMilliseconds(_options.RetryBaseMs * Math.Pow(2, attempt - 1)),
                    (alert, ct) => SendAsync(client, alert, ct), stoppingToken);
                if (delivered + failed > 0)
                {
                    LogRound(logger, delivered, failed);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Postgres unavailable: the next round tries again; nothing is lost, the rows hold the state.
                LogRoundFailed(logger, ex.GetType().Name);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task<int> SendAsync(HttpClient client, SpeedToLeadAlert alert, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(alert, AlertJsonContext.Default.SpeedToLeadAlert);
        using var request = new HttpRequestMessage(HttpMethod.Post, _options.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-Ingest-Event-Id", alert.EventId);
        if (!string.IsNullOrEmpty(_options.Secret))
        {
            request.Headers.Add("X-Ingest-Signature", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(_options.Secret), body)));
        }

        using var response = await client.SendAsync(request, cancellationToken);
        return (int)response.StatusCode;
    }

    [LoggerMessage(EventId = 2510, Level = LogLevel.Information, Message = "Speed-to-lead alerts: {Delivered} delivered, {Failed} failed (retried later)")]
    private static partial void LogRound(ILogger logger, int delivered, int failed);

    [LoggerMessage(EventId = 2511, Level = LogLevel.Warning, Message = "Speed-to-lead alert round failed: {Error}")]
    private static partial void LogRoundFailed(ILogger logger, string error);
}
