namespace Ingest.Core.Touches;

/// <summary>Why one field of a touch was refused: the field's wire name, a stable code and a human message.</summary>
public sealed record FieldError(string Field, string Code, string Message);
