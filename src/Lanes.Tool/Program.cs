return Lanes.Tool.Cli.Run(args, Console.Out, Console.Error);
