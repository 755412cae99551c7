"""Everything Heimdall knows about Claude Code, one job per module.

- `install`: the one version pin and finding the binary.
- `launch`: a tab's command line and environment (session flags, offline switches).
- `settings`: the config dir (`claude_config_dir`) and files written into managed ones.
- `login`: whether a Claude login exists.
- `transcripts`: session ids and what the transcript says about relaunching.
- `status`: busy/idle from the title spinner and the live session file.

Generic launching of any program is in `heimdall.process.launch`.
"""
