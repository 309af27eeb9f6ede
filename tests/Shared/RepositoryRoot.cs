namespace Lanes.Testing;

/// <summary>The folder that holds Lanes.Sdk.sln, found upwards from the test's output folder.</summary>
internal static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Lanes.Sdk.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Lanes.Sdk.sln not found above {AppContext.BaseDirectory}");
    }
}
