namespace Drift.Data;

/// <summary>Data that cannot be used as asked: a missing or malformed file, an unknown dataset. The message names
/// the file (and line) and says what is wrong; the command line reports it as one line with exit code 2.</summary>
public sealed class DataError(string message, Exception? cause = null) : Exception(message, cause);
