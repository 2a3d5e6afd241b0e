namespace Drift.Train;

/// <summary>A problem with what the user asked for or gave: reported as one line, exit code 2, no stack trace.</summary>
public class UserError(string message, Exception? cause = null) : Exception(message, cause);
