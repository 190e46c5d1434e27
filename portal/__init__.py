"""portal: a multi-app web platform on aiohttp."""
