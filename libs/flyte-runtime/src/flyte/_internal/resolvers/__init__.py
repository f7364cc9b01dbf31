"""Task resolvers under the reference SDK's module path (`flyte._internal.resolvers`)."""
