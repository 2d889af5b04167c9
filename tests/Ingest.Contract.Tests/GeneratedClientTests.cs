using Ingest.Contract.Tests.Generated;

namespace Ingest.Contract.Tests;

/// <summary>
/// The collector as a client generated from openapi.yaml sees it: each call goes through <see cref="IngestClient"/>
/// only, so an answer the document does not describe (a status, a field's type, a required field left out) fails here.
/// </summary>
public sealed class GeneratedClientTests(ContractHost host) : IClassFixture<ContractHost>
{
    [Fact]
    public async Task PostTouch_OneFormTouch_202WithItsEventId()
    {
        var answer = await host.Writer().PostTouchAsync(new TouchPayload
        {
            Event_id = "contract-touch-1",
            Kind = "form",
            Email = "ada@example.com",
            Page_url = "https://acme.com/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=nov",
        });

        Assert.Equal(202, answer.StatusCode);
        Assert.Equal("contract-touch-1", answer.Result.Event_id);
        Assert.Equal("accepted", answer.Result.Status);
    }

    [Fact]
    public async Task PostTouchBatch_OneValidOneWithoutIdentity_ResultPerItemInOrder()
    {
        var answer = await host.Writer().PostTouchBatchAsync(new BatchRequest
        {
            Touches =
            [
                new TouchPayload { Event_id = "contract-batch-1", Kind = "form", Anonymous_id = "anon-contract" },
                new TouchPayload { Kind = "form", Page_url = "https://acme.com/" },
            ],
        });

        Assert.Equal(202, answer.StatusCode);
        var batch = answer.Result;
        Assert.Equal((1, 1, 0), (batch.Accepted, batch.Rejected, batch.Unavailable));
        var results = batch.Results.ToList();
        Assert.Equal(2, results.Count);

        Assert.Equal((0, "contract-batch-1", "accepted"), (results[0].Index, results[0].Event_id, results[0].Status));
        Assert.Null(results[0].Errors);

        // The rejected item sent no event_id: the answer leaves it out, which the document must allow.
        Assert.Equal((1, null, "rejected"), (results[1].Index, results[1].Event_id, results[1].Status));
        var error = Assert.Single(results[1].Errors!);
        Assert.Equal(("identities", "no_identity"), (error.Field, error.Code));
    }

    [Fact]
    public async Task PostTouch_InvalidEmail_422FieldProblemThroughTheGeneratedException()
    {
        var thrown = await Assert.ThrowsAsync<ApiException<FieldProblem>>(() => host.Writer().PostTouchAsync(new TouchPayload
        {
            Kind = "form",
            Email = "not-an-address",
        }));

        Assert.Equal(422, thrown.StatusCode);
        var problem = thrown.Result;
        Assert.Equal("https://ingest.dev/problems/validation", problem.Type);
        Assert.Equal(422, problem.Status);
        Assert.Equal("email", problem.Field);
        var error = Assert.Single(problem.Errors);
        Assert.Equal(("email", "invalid_email", "email is not a valid address."), (error.Field, error.Code, error.Message));
    }

    [Fact]
    public async Task FindLead_TouchStoredByTheWorker_ReadKeySeesFirstTouchAndChannelReport()
    {
        var sent = await host.Writer().PostTouchAsync(new TouchPayload
        {
            Event_id = "contract-read-1",
            Kind = "form",
            Email = "Grace@Example.com",
            Occurred_at = "2026-06-10T09:30:00Z",
            Page_url = "https://acme.com/pricing?utm_source=google&utm_medium=cpc&utm_campaign=brand&gclid=Cj0KCQ",
        });
        Assert.Equal(202, sent.StatusCode);

        var reader = host.Reader();
        var lead = await WaitForLead(reader, "grace@example.com");

        Assert.Equal(200, lead.StatusCode);
        Assert.Equal(1, lead.Result.Touch_count);
        var first = lead.Result.First_touch!;
        Assert.Equal("contract-read-1", first.Event_id);
        Assert.Equal(new DateTimeOffset(2026, 6, 10, 9, 30, 0, TimeSpan.Zero), first.Occurred_at);
        // By hand from deploy/governance/default.yaml: cpc is an alias of paid_search (one violation), gclid is Google Ads.
        Assert.Equal(("paid_search", "google", "paid_search", "brand"), (first.Channel, first.Source, first.Medium, first.Campaign));
        Assert.Equal(("Cj0KCQ", "google_ads"), (first.Click_id, first.Click_network));
        Assert.Equal(("google", "api"), (first.Source_detail, first.Method));
        Assert.Equal("contract-read-1", lead.Result.Latest_touch!.Event_id);
        Assert.Contains(lead.Result.Identities, i => i.Kind == "email" && i.Value == "grace@example.com");

        // June holds this lead only (the other tests' touches happen now).
        var report = await reader.ChannelReportAsync("2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z", "first", "b2b", null);
        Assert.Equal(200, report.StatusCode);
        Assert.Equal(1, report.Result.Leads);
        var channel = Assert.Single(report.Result.Channels);
        Assert.Equal(("paid_search", 1L, 1.0), (channel.Channel, channel.Leads, channel.Share));
        Assert.Equal(0.0, report.Result.Unattributed_share);
        Assert.Equal(1.0, report.Result.Violation_rate);

        var byMethod = await reader.ChannelReportAsync("2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z", "first", "b2b", "method");
        Assert.Equal("method", byMethod.Result.Group_by);
        Assert.Equal(("api", 1L), (Assert.Single(byMethod.Result.Channels).Channel, Assert.Single(byMethod.Result.Channels).Leads));
    }

    // The worker stores the touch a few milliseconds after the collector's 202; until then the read is a 404 problem.
    private static async Task<IngestResponse<LeadView>> WaitForLead(IngestClient reader, string email)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await reader.FindLeadAsync(email, null, null, null, null, null);
            }
            catch (ApiException<ProblemDetails> notYet) when (notYet.StatusCode == 404 && attempt < 150)
            {
                await Task.Delay(100);
            }
        }
    }
}
