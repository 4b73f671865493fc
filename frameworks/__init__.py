"""The one door to what the frameworks do not publish.

Speed (and a few adjustments) rest on parts of graphql-core, strawberry, uvicorn, Tortoise
and asyncio that their authors may change in any release. Every such use lives here, one
module per framework, each with a docstring saying what it relies on, since which version,
and what breaks if it changes; nothing else in the code reaches into a framework.

Each fast path (`frameworks.fast_paths`) names the releases it was tested with. At start-up
the server compares them with the installed versions: outside the tested ranges, or with
FAST_PATHS=0, a fast path turns itself off (one warning line each) and the public path
serves, slower and with the same answers. This package imports nothing of the project's.
"""
