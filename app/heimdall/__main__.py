from heimdall.cli import main

raise SystemExit(main())
