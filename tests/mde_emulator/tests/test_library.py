"""The library as Microsoft Learn's "List library files" example shows it: a file uploaded without a description
lists it as null (https://learn.microsoft.com/defender-endpoint/api/list-library-files)."""


def test_a_file_without_description_lists_it_as_null(client):
    assert client.call("POST", "/api/libraryfiles", files={"file": ("bare.ps1", b"Get-Date\n")}).status_code == 200
    entry = [f for f in client.get("/api/libraryfiles").json()["value"] if f["fileName"] == "bare.ps1"][0]
    assert entry["description"] is None and entry["hasParameters"] is False
    described = client.call("POST", "/api/libraryfiles", files={"file": ("bare.ps1", b"Get-Date\n")},
                            data={"Description": "now described", "OverrideIfExists": "true"})
    assert described.json()["description"] == "now described"
    assert described.json()["creationTime"] == entry["creationTime"]
