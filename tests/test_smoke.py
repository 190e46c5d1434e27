from tests.conftest import Client


async def test_home_lists_polls(client: Client) -> None:
    response = await client.get("/")
    assert response.status == 200
    assert 'href="/polls/"' in await response.text()
