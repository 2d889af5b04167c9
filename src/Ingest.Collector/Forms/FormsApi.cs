using Ingest.Collector.Kafka;
using Ingest.Collector.Problems;
using Ingest.Collector.Touches;
using Ingest.Core.Touches;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Ingest.Collector.Forms;

/// <summary>
/// <c>POST /v1/forms/{formId}</c>: plain HTML form posts from browsers (no API key; the form must be configured under
/// <c>Forms:{formId}</c>, and its <c>AllowedOrigins</c>, when set, are enforced; rate limited per client address and per
/// form). Answers 303 to the thank-you page, or JSON when the client asks for it.
/// </summary>
public static class FormsApi
{
    public const int MaxFormBytes = 64 * 1024;
    internal const string Door = "form";

    private static readonly string[] EmailFields = ["email", "e-mail", "email_address", "emailaddress", "your-email", "work_email"];
    private static readonly string[] PhoneFields = ["phone", "tel", "telephone", "phone_number", "phonenumber", "mobile", "your-phone"];
    private static readonly string[] SelfReportedFields = ["self_reported_source", "how_did_you_hear", "how_did_you_hear_about_us", "hdyhau", "heard_about_us"];

    public static IEndpointRouteBuilder MapFormsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/forms/{formId}", PostForm)
            .WithTags("Forms")
            .WithName("PostForm")
            .WithSummary("Record an HTML form submission")
            .WithDescription("application/x-www-form-urlencoded or multipart/form-data without files. email/phone fields become identities, utm_* and click ids are read from hidden fields or else the Referer URL, other fields are kept as properties. 303 to the form's RedirectUrl, or 202 JSON with Accept: application/json.")
            .Accepts<Dictionary<string, string>>("application/x-www-form-urlencoded", "multipart/form-data")
            .Produces(StatusCodes.Status303SeeOther)
            .Produces<TouchAccepted>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesFieldProblem()
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .AddEndpointFilter(static (context, next) => context.HttpContext.RequestServices.GetRequiredService<FormRateLimiter>().InvokeAsync(context, next))
            .DisableAntiforgery();
        return app;
    }

    public static async Task<Results<Accepted<TouchAccepted>, StatusCodeHttpResult, ContentHttpResult, ProblemHttpResult>> PostForm(
        string formId, HttpContext http, TouchIntake intake, TimeProvider time, IOptions<FormsOptions> forms, IOptions<TouchProducerOptions> producer, CancellationToken cancellationToken)
    {
        // The id is only ever a dictionary key, never a configuration path: a crafted id cannot reach another setting.
        if (!FormsOptions.IsFormId(formId) || !forms.Value.Forms.TryGetValue(formId, out var settings))
        {
            return ProblemResponses.Problem(StatusCodes.Status404NotFound, ProblemTypes.NotFound, "No form is configured with this id.", "formId");
        }

        var request = http.Request;
        var allowed = settings.AllowedOrigins;
        var origin = Origin(request);
        if (allowed.Count > 0 && (origin is null || !allowed.Any(a => a.TrimEnd('/').Equals(origin, StringComparison.OrdinalIgnoreCase))))
        {
            return ProblemResponses.Problem(StatusCodes.Status403Forbidden, ProblemTypes.Forbidden, "This form may not be posted from this origin.", "Origin");
        }

        if (!request.HasFormContentType)
        {
            return ProblemResponses.Problem(StatusCodes.Status415UnsupportedMediaType, ProblemTypes.UnsupportedMediaType,
                "Post the form as application/x-www-form-urlencoded or multipart/form-data.", "Content-Type");
        }

        if (request.ContentLength > MaxFormBytes)
        {
            return TooLarge();
        }

        IFormCollection form;
        try
        {
            if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = MaxFormBytes;
            }

            form = await request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = MaxFormBytes, ValueLengthLimit = MaxFormBytes, ValueCountLimit = 200 }, cancellationToken);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge();
        }
        catch (InvalidDataException)
        {
            return TooLarge();
        }
        catch (IOException) when (!cancellationToken.IsCancellationRequested)
        {
            // A multipart body that ends before its closing boundary (or is not multipart at all).
            return ProblemResponses.Problem(StatusCodes.Status400BadRequest, ProblemTypes.Malformed,
                "The form body is not valid multipart/form-data: it ends before its closing boundary.", "body");
        }

        if (form.Files.Count > 0)
        {
            return ProblemResponses.Validation([new FieldError(form.Files[0].Name, "file_not_accepted", "Forms may not upload files here.")]);
        }

        var payload = Map(form, request.Headers.Referer.ToString());
        var outcome = await intake.AcceptAsync(payload, new TouchContext
        {
            Door = Door,
            ReceivedAt = time.GetUtcNow(),
            DefaultKind = TouchKind.Form,
            Provider = new Dictionary<string, string> { ["form_id"] = formId },
        }, cancellationToken);
        if (IntakeAnswers.Problem(http, outcome, producer.Value) is { } answer)
        {
            return answer;
        }

        if (request.Headers.Accept.ToString().Contains("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return TypedResults.Accepted((string?)null, new TouchAccepted(outcome.EventId!, "accepted"));
        }

        var redirect = settings.RedirectUrl ?? (Uri.TryCreate(request.Headers.Referer.ToString(), UriKind.Absolute, out var back) ? back.ToString() : null);
        if (redirect is null)
        {
            return TypedResults.Content("<!doctype html><title>Thank you</title><p>Thank you, we received your message.</p>", "text/html");
        }

        // 303 See Other: the browser follows with a GET to the thank-you page.
        http.Response.Headers.Location = redirect;
        return TypedResults.StatusCode(StatusCodes.Status303SeeOther);
    }

    private static ProblemHttpResult TooLarge() =>
        ProblemResponses.Problem(StatusCodes.Status413PayloadTooLarge, ProblemTypes.TooLarge, $"A form post may be at most {MaxFormBytes} bytes.");

    /// <summary>The posting page's origin: the Origin header, else the Referer's scheme, host and port.</summary>
    private static string? Origin(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        if (!string.IsNullOrEmpty(origin) && origin != "null")
        {
            return origin.TrimEnd('/');
        }

        return Uri.TryCreate(request.Headers.Referer.ToString(), UriKind.Absolute, out var referer) ? referer.GetLeftPart(UriPartial.Authority) : null;
    }

    internal static TouchPayload Map(IFormCollection form, string referer)
    {
        string? Field(params string[] names)
        {
            foreach (var name in names)
            {
                foreach (var key in form.Keys)
                {
                    if (key.Equals(name, StringComparison.OrdinalIgnoreCase) && !string.IsNullOrWhiteSpace(form[key]))
                    {
                        return form[key].ToString();
                    }
                }
            }

            return null;
        }

        // Hidden fields first; else the Referer's query (the landing page's UTMs and click ids).
        var refererQuery = Uri.TryCreate(referer, UriKind.Absolute, out var refererUri)
            ? Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(refererUri.Query)
            : [];
        string? Tracking(string name) => Field(name) ?? refererQuery.FirstOrDefault(kv => kv.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value.FirstOrDefault();

        var payload = new TouchPayload
        {
            Kind = "form",
            EventId = Field("event_id"),
            OccurredAt = Field("occurred_at"),
            AnonymousId = Field("anonymous_id"),
            ExternalId = Field("external_id"),
            Email = Field(EmailFields),
            Phone = Field(PhoneFields),
            PageUrl = Field("page_url") ?? (Uri.TryCreate(referer, UriKind.Absolute, out _) ? referer : null),
            Referrer = Field("referrer"),
            UtmSource = Tracking("utm_source"),
            UtmMedium = Tracking("utm_medium"),
            UtmCampaign = Tracking("utm_campaign"),
            UtmTerm = Tracking("utm_term"),
            UtmContent = Tracking("utm_content"),
            UtmId = Tracking("utm_id"),
            SelfReportedSource = Field(SelfReportedFields),
        };
        foreach (var name in ClickIds.Names)
        {
            payload.AddClickId(name, Tracking(name));
        }

        // Everything else (name, company, message …) is kept as properties, capped in count.
        var mapped = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            "event_id", "occurred_at", "anonymous_id", "external_id", "page_url", "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_term",
            "utm_content", "utm_id",
        };
        mapped.UnionWith(ClickIds.Names);
        mapped.UnionWith(EmailFields);
        mapped.UnionWith(PhoneFields);
        mapped.UnionWith(SelfReportedFields);
        payload.Properties = PropertyBag.From(form.Keys.Where(k => !mapped.Contains(k)).Select(k => new KeyValuePair<string, string>(k, form[k].ToString())));

        return payload;
    }
}
