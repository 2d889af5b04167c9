namespace Ingest.Core.Governance;

/// <summary>
/// A touch's method: how it entered Ingest (a web form, a visit, the API, call tracking, an ad platform's lead form, an
/// import, a CRM), kept apart from where it came from (its channel, source and source detail). It follows from the door
/// that accepted the touch and the touch's kind alone (docs/governance.md, "Source detail and method").
/// </summary>
public static class TouchMethods
{
    public const string WebForm = "web_form";
    public const string Visit = "visit";
    public const string Api = "api";
    public const string CallTracking = "call_tracking";
    public const string AdForm = "ad_form";
    public const string Import = "import";
    public const string Crm = "crm";

    /// <summary>
    /// The method of a touch of <paramref name="kind"/> (its wire name: <c>form</c>, <c>call</c>, <c>ad</c>, <c>visit</c>,
    /// <c>offline</c>) accepted by <paramref name="door"/>; null for a door this table does not know.
    /// </summary>
    public static string? Of(string door, string kind) => kind switch
    {
        // A page view is a visit whichever door carried it; an offline touch (badge scan, trade-show list) came from a file.
        "visit" => Visit,
        "offline" => Import,
        _ => door switch
        {
            "form" or "browser" => WebForm,
            "api" => Api,
            // CallRail also tracks the website forms of the pages it swaps numbers on.
            "callrail" => kind == "form" ? WebForm : CallTracking,
            "twilio" => CallTracking,
            "google_ads" or "meta" => AdForm,
            "import" or "imports" => Import,
            "crm" or "hubspot" => Crm,
            _ => null,
        },
    };
}
