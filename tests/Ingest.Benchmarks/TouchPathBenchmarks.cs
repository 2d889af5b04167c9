using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Ingest.Core.Governance;
using Ingest.Core.Identity;
using Ingest.Core.Serialization;
using Ingest.Core.Touches;

namespace Ingest.Benchmarks;

/// <summary>
/// The collector's CPU work per touch between the HTTP body and the Kafka value: parse (source-generated JSON from
/// UTF-8) → build (validation, identities, governance) → encode (UTF-8 record). Bodies are the load test's mix
/// (load-tests/scenarios/touches.lua); each operation handles all of them. Guards allocations per touch (issue 17).
/// </summary>
[MemoryDiagnoser]
public class TouchPathBenchmarks
{
    private static readonly DateTimeOffset ReceivedAt = new(2026, 11, 21, 10, 16, 0, TimeSpan.Zero);
    private readonly TouchBuilder _builder = new(new GovernanceEngine(GovernanceRules.Default), new IdentityNormalizer(), new TouchLimits());
    private byte[][] _bodies = [];
    private TouchPayload[] _payloads = [];
    private TouchRecord[] _records = [];

    [GlobalSetup]
    public void Setup()
    {
        (string Source, string Medium, string Campaign, string? Click)[] sources =
        [
            ("google", "cpc", "brand_search_2026q4", "gclid"),
            ("facebook", "paid_social", "retargeting_demo", "fbclid"),
            ("newsletter", "email", "nov_product_update", null),
            ("bing", "cpc", "competitor_terms", "msclkid"),
        ];
        _bodies = Enumerable.Range(0, 8).Select(i =>
        {
            var (source, medium, campaign, click) = sources[i % sources.Length];
            var page = $"https://www.example.com/pricing?utm_source={source}&utm_medium={medium}&utm_campaign={campaign}" + (click is null ? "" : $"&{click}=Cj0KCQiA{i}xYz");
            return Encoding.UTF8.GetBytes($$$"""{"kind":"form","occurred_at":"2026-11-21T10:15:00Z","anonymous_id":"anon-{{{i}}}-42","email":"lead.{{{i}}}@example.com","page_url":"{{{page}}}","referrer":"https://www.{{{source}}}.com/","properties":{"form_id":"demo","company":"Acme {{{i}}}"}}""");
        }).ToArray();
        _payloads = _bodies.Select(static b => JsonSerializer.Deserialize(b, IngestJsonContext.Default.TouchPayload)!).ToArray();
        _records = _payloads.Select(p => _builder.Build(p, Context()).Record!).ToArray();
    }

    private static TouchContext Context() => new() { Door = "api", ReceivedAt = ReceivedAt };

    [Benchmark(OperationsPerInvoke = 8)]
    public int Parse()
    {
        var n = 0;
        foreach (var body in _bodies)
        {
            n += JsonSerializer.Deserialize(body, IngestJsonContext.Default.TouchPayload)!.Kind is null ? 0 : 1;
        }

        return n;
    }

    [Benchmark(OperationsPerInvoke = 8)]
    public int Build()
    {
        var n = 0;
        foreach (var payload in _payloads)
        {
            n += _builder.Build(payload, Context()).Errors.Count;
        }

        return n;
    }

    [Benchmark(OperationsPerInvoke = 8)]
    public int Encode()
    {
        var n = 0;
        foreach (var record in _records)
        {
            n += TouchRecordJson.Encode(record).Length;
        }

        return n;
    }

    [Benchmark(OperationsPerInvoke = 8)]
    public int WholePath()
    {
        var n = 0;
        foreach (var body in _bodies)
        {
            var payload = JsonSerializer.Deserialize(body, IngestJsonContext.Default.TouchPayload)!;
            n += TouchRecordJson.Encode(_builder.Build(payload, Context()).Record!).Length;
        }

        return n;
    }
}
